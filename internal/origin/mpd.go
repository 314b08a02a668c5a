package origin

import (
	"bytes"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/Eyevinn/dash-mpd/mpd"

	"onair/internal/live"
	"onair/internal/media"
)

const contentTypeMPD = "application/dash+xml"

// dashTimeFormat is xs:dateTime in UTC with millisecond precision, used for
// MPD times and the /time endpoint (urn:mpeg:dash:utc:http-iso:2014).
const dashTimeFormat = "2006-01-02T15:04:05.000Z"

// minPresentationDelay is the smallest suggestedPresentationDelay: dash.js
// stalls with less than about three segments or 6 s.
const minPresentationDelay = 6 * time.Second

// serveMPD serves the channel's DASH MPD.
func (o *Origin) serveMPD(w http.ResponseWriter, r *http.Request, ch *live.Channel, channel string) error {
	var reps []dashRendition
	for _, rend := range ch.Renditions() {
		snap := rend.Snapshot()
		if snap.Info.Protection.Scheme == live.SchemeAES128 {
			return notFound(errNoDASH)
		}
		reps = append(reps, dashRendition{snap: snap, current: rend.CurrentInit()})
	}
	tu := timeURL(r)
	m, ok := buildMPD(reps, ch.Grid(), ch.Epoch(), o.cfg.Window, tu, o.now())
	if ok {
		addContentProtection(m, reps, o.clearKeyURL(channel, tu))
	}
	if !ok {
		return notFound(errNotReady)
	}
	var buf bytes.Buffer
	buf.Grow(4096)
	if _, err := m.Write(&buf, "  ", true); err != nil {
		return err
	}
	writeBody(w, r, http.StatusOK, contentTypeMPD, cachePlaylist, buf.Bytes())
	return nil
}

// serveTime serves the current UTC time for DASH UTCTiming.
func (o *Origin) serveTime(w http.ResponseWriter, r *http.Request) error {
	writeBody(w, r, http.StatusOK, "text/plain; charset=utf-8", cacheNone, []byte(o.now().UTC().Format(dashTimeFormat)))
	return nil
}

// timeURL is the absolute URL of /time on the host the client asked for
// (forwarding headers are not trusted: the MPD is shared through caches).
func timeURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	for i := 0; i < len(host); i++ {
		if c := host[i]; !nameChar(c) && !strings.ContainsRune(".:[]", rune(c)) {
			host = ""
			break
		}
	}
	if host == "" {
		return "/time"
	}
	return scheme + "://" + host + "/time"
}

// dashRendition is what the MPD needs from one rendition.
type dashRendition struct {
	snap    live.Snapshot
	current string // the current init name, for a rendition without segments
}

// buildMPD builds the dynamic MPD (ISO/IEC 23009-1, isoff-live and CMAF
// profiles) with a number-based SegmentTemplate per Representation: segment
// n of every rendition covers [n*D, (n+1)*D) after availabilityStartTime,
// the channel clock's origin, so a client finds the live edge from the wall
// clock alone.
//
// There is one Period, starting at 0, while each rendition uses one init
// segment throughout the time-shift window. An init that changed from
// segment k on (init-{k}.mp4) cannot be expressed inside a Period, so it
// opens a new Period at k*D (section 5.3.2) whose SegmentTemplate starts at
// number k with presentationTimeOffset k*D.
func buildMPD(reps []dashRendition, g media.Grid, epoch media.Epoch, window time.Duration, timeURL string, now time.Time) (*mpd.MPD, bool) {
	if len(reps) == 0 {
		return nil, false
	}
	d := g.Segment
	ast := epoch.Wall
	maxDur := d
	inits := make([][]string, len(reps)) // per rendition, distinct init names in the window
	count := int64(window / d)
	for i := range reps {
		segs := reps[i].snap.Segments
		if ast.IsZero() && len(segs) > 0 {
			// No epoch recorded: derive channel time 0 from the newest
			// segment's ingest wall time.
			s := segs[len(segs)-1]
			ast = s.Wall.Add(-media.Duration(s.Start))
		}
		var newest int64
		if len(segs) > 0 {
			newest = segs[len(segs)-1].Number
		}
		for _, s := range segs {
			if s.Number < newest-count {
				continue
			}
			if s.Complete {
				maxDur = max(maxDur, media.Duration(s.Duration))
			}
			name := s.Init
			if name == "" {
				name = live.InitName(true, 0)
			}
			if !slices.Contains(inits[i], name) {
				inits[i] = append(inits[i], name)
			}
		}
		if len(inits[i]) == 0 {
			cur := reps[i].current
			if cur == "" {
				cur = live.InitName(true, 0)
			}
			inits[i] = []string{cur}
		}
	}
	if ast.IsZero() {
		return nil, false
	}

	m := mpd.NewMPD(mpd.DYNAMIC_TYPE)
	m.Profiles = mpd.ListOfProfilesType(mpd.PROFILE_LIVE).AddProfile(mpd.PROFILE_CMAF)
	m.AvailabilityStartTime = mpd.DateTime(ast.UTC().Format(dashTimeFormat))
	m.PublishTime = mpd.DateTime(now.UTC().Format(dashTimeFormat))
	m.MinimumUpdatePeriod = durPtr(d)
	m.MinBufferTime = durPtr(d)
	m.TimeShiftBufferDepth = durPtr(timeShiftDepth(window, d, now.Sub(ast)))
	m.SuggestedPresentationDelay = durPtr(max(3*d, minPresentationDelay))
	m.MaxSegmentDuration = durPtr(maxDur)
	m.UTCTimings = []*mpd.DescriptorType{mpd.NewDescriptor("urn:mpeg:dash:utc:http-iso:2014", timeURL, "")}

	// Period "0" always exists, so its id never changes; a Period for a
	// later init exists while that init is in the window, and by the time
	// it leaves, its whole Period lies before the time-shift buffer.
	starts := []int64{0}
	for _, names := range inits {
		for _, n := range names {
			if k := initStart(n); !slices.Contains(starts, k) {
				starts = append(starts, k)
			}
		}
	}
	slices.Sort(starts)
	for _, k := range starts {
		m.Periods = append(m.Periods, dashPeriod(reps, inits, g, k))
	}
	m.SetParents()
	return m, true
}

// addContentProtection signals each AdaptationSet's encryption, from its
// first Representation's protection (a channel encrypts every rendition
// alike).
//
// With key rotation each Period's init carries the key of its first
// segment, so its default KID is that segment's key.
func addContentProtection(m *mpd.MPD, reps []dashRendition, licenseURL string) {
	byName := make(map[string]*dashRendition, len(reps))
	for i := range reps {
		byName[reps[i].snap.Info.Name] = &reps[i]
	}
	for _, p := range m.Periods {
		k, _ := strconv.ParseInt(p.Id, 10, 64)
		for _, as := range p.AdaptationSets {
			if len(as.Representations) == 0 {
				continue
			}
			r := byName[as.Representations[0].Id]
			if r == nil {
				continue
			}
			prot := r.snap.Info.Protection
			for _, s := range r.snap.Segments {
				if s.Number >= k && s.Key != (live.KeyID{}) {
					prot.Key = s.Key
					break
				}
			}
			as.ContentProtections = contentProtection(prot, licenseURL)
		}
	}
}

// dashPeriod builds the Period that starts at segment k.
func dashPeriod(reps []dashRendition, inits [][]string, g media.Grid, k int64) *mpd.Period {
	p := mpd.NewPeriod()
	p.Id = strconv.FormatInt(k, 10)
	p.Start = durPtr(time.Duration(k) * g.Segment)
	video := mpd.NewAdaptationSetWithParams("video", mpd.MIME_TYPE_VIDEO_MP4, true, 1)
	video.Id = mpd.Ptr(uint32(0))
	audio := mpd.NewAdaptationSetWithParams("audio", mpd.MIME_TYPE_AUDIO_MP4, true, 1)
	audio.Id = mpd.Ptr(uint32(1))
	for i := range reps {
		info := reps[i].snap.Info
		rep := mpd.NewRepresentationWithID(info.Name, info.Codecs, "", info.Bandwidth)
		ts := info.Timescale
		if ts == 0 {
			ts = media.Timescale
		}
		st := mpd.NewSegmentTemplate()
		st.Media = "$RepresentationID$/$Number$.m4s"
		st.Initialization = "$RepresentationID$/" + initFor(inits[i], k)
		st.Timescale = mpd.Ptr(ts)
		st.Duration = mpd.Ptr(uint32(int64(g.Segment) * int64(ts) / int64(time.Second)))
		st.StartNumber = mpd.Ptr(uint32(k))
		st.PresentationTimeOffset = mpd.Ptr(uint64(int64(g.Segment) * k * int64(ts) / int64(time.Second)))
		rep.SegmentTemplate = st
		if isAudio(info) {
			rep.AudioSamplingRate = mpd.Ptr(mpd.UIntVectorType(strconv.Itoa(int(ts))))
			if info.Channels > 0 {
				rep.AudioChannelConfigurations = []*mpd.DescriptorType{mpd.NewDescriptor(
					mpd.AUDIO_CHANNEL_CONFIGURATION_MPEG_DASH, strconv.Itoa(info.Channels), "")}
			}
			audio.AppendRepresentation(rep)
			continue
		}
		rep.Width, rep.Height = uint32(info.Width), uint32(info.Height)
		rep.FrameRate = mpd.FrameRateType(frameRate(info.FPS))
		video.AppendRepresentation(rep)
	}
	for _, as := range []*mpd.AdaptationSetType{video, audio} {
		if len(as.Representations) > 0 {
			p.AppendAdaptationSet(as)
		}
	}
	return p
}

// initStart returns the first segment an init segment applies to:
// "init.mp4" 0, "init-{n}.mp4" n.
func initStart(name string) int64 {
	v, ok := strings.CutPrefix(name, "init-")
	if !ok {
		return 0
	}
	v, _ = strings.CutSuffix(v, ".mp4")
	n, _ := parseUint(v)
	return n
}

// initFor returns the init among names that applies at segment k: the
// latest one starting at or before k, else the earliest.
func initFor(names []string, k int64) string {
	best, bestStart := "", int64(-1)
	first, firstStart := names[0], initStart(names[0])
	for _, n := range names {
		s := initStart(n)
		if s <= k && s > bestStart {
			best, bestStart = n, s
		}
		if s < firstStart {
			first, firstStart = n, s
		}
	}
	if best == "" {
		return first
	}
	return best
}

// frameRate writes a frame rate as DASH FrameRateType: an integer, an NTSC
// rate as N/1001, else a reduced fraction of thousandths.
func frameRate(fps float64) string {
	if fps <= 0 {
		return ""
	}
	if r := math.Round(fps); math.Abs(fps-r) < 0.001 {
		return strconv.Itoa(int(r))
	}
	if k := math.Round(fps * 1.001); math.Abs(fps-k*1000/1001) < 0.001 {
		return strconv.Itoa(int(k)*1000) + "/1001"
	}
	num, den := int(math.Round(fps*1000)), 1000
	a, b := num, den
	for b != 0 {
		a, b = b, a%b
	}
	return strconv.Itoa(num/a) + "/" + strconv.Itoa(den/a)
}

func durPtr(d time.Duration) *mpd.Duration {
	v := mpd.Duration(d)
	return &v
}

// timeShiftDepth is the time-shift buffer the MPD advertises: the live
// window, but never deeper than the content that exists (the channel's age
// less a second, whole seconds), and at least one segment. Besides being
// true, this matters to ffmpeg 5.1's DASH demuxer, which computes
// now - availabilityStartTime - timeShiftBufferDepth in unsigned integers
// and refetches the same segment forever when that underflows.
func timeShiftDepth(window, d, age time.Duration) time.Duration {
	depth := (age - time.Second).Truncate(time.Second)
	return max(min(depth, window), d)
}
