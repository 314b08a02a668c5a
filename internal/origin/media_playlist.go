package origin

import (
	"net/http"
	"strconv"
	"time"

	"onair/internal/format/hls"
	"onair/internal/live"
	"onair/internal/media"
)

// hlsVersion is the EXT-X-VERSION of every playlist: LL-HLS tags and
// EXT-X-MAP in segments without I-frames-only need at least this.
const hlsVersion = 9

const (
	contentTypeM3U8 = "application/vnd.apple.mpegurl"
	contentTypeMP4  = "video/mp4"
	contentTypeM4S  = "video/iso.segment"
)

// serveMedia serves a media playlist, after a blocking reload's hold when
// the request carries _HLS_msn.
func (o *Origin) serveMedia(w http.ResponseWriter, r *http.Request, ch *live.Channel, channel string, rend *live.Rendition, changed <-chan struct{}) error {
	d, status := parseDirective(r.URL.RawQuery)
	if status != 0 {
		return clientError(status, errBadDirective)
	}
	if d.block {
		if err := o.block(r.Context(), ch.Grid(), rend, d, changed); err != nil {
			return err
		}
	}
	snap := rend.Snapshot()
	var reports []hls.RenditionReport
	for _, other := range ch.Renditions() {
		if other == rend {
			continue
		}
		rs := other.Snapshot()
		if msn, parts, ok := rs.Last(); ok {
			reports = append(reports, hls.RenditionReport{
				URI: "../" + rs.Info.Name + "/index.m3u8", LastMSN: msn, LastPart: parts - 1,
			})
		}
	}
	m, ok := mediaPlaylist(&snap, o.cfg.Window, reports, o.hlsKeys(channel, snap.Info.Protection))
	if !ok {
		if d.block {
			return unavailable(errNotReady)
		}
		return notFound(errNotReady)
	}
	writeBody(w, r, http.StatusOK, contentTypeM3U8, cachePlaylist, m.Append(make([]byte, 0, 8192)))
	return nil
}

// mediaPlaylist builds a rendition's LL-HLS media playlist (RFC 8216bis)
// from its snapshot: complete segments numbered after last-complete -
// window/D (at least three target durations plus one segment, section
// 6.2.2), the parts of the segments in the last three target durations and
// of the segment in progress, and a preload hint for the next part.
//
// Media sequence numbers stay consecutive: numbers the publisher skipped
// are listed as EXT-X-GAP segments of duration D, and the first real
// segment after a gap carries EXT-X-DISCONTINUITY. ok is false until the
// rendition has a complete segment.
//
// keyOf gives each segment's EXT-X-KEY (nil: clear media). AES-128
// renditions are encrypted whole-segment, so their playlists list only
// complete segments: no parts, no preload hint (plain HLS).
func mediaPlaylist(snap *live.Snapshot, span time.Duration, reports []hls.RenditionReport, keyOf func(*live.Segment) *hls.Key) (*hls.Media, bool) {
	w, ok := selectWindow(snap, span)
	if !ok {
		return nil, false
	}
	g := snap.Grid
	if snap.Info.Protection.Scheme == live.SchemeAES128 {
		last := len(w.segs) - 1
		for last >= 0 && !w.segs[last].Complete {
			last--
		}
		w.segs, w.hint, w.whole = w.segs[:last+1], false, true
		m := &hls.Media{
			Version:               hlsVersion,
			TargetDuration:        w.target,
			ServerControl:         &hls.ServerControl{CanBlockReload: true, HoldBack: 3 * time.Duration(w.target) * time.Second},
			MediaSequence:         w.segs[w.first].Number,
			DiscontinuitySequence: int64(snap.DiscontinuitySeq) + discontinuitiesThrough(w.segs, w.first),
			Segments:              entries(w, g, keyOf),
			RenditionReports:      reports,
		}
		for i := range m.RenditionReports {
			m.RenditionReports[i].LastPart = -1
		}
		return m, true
	}
	m := &hls.Media{
		Version:        hlsVersion,
		TargetDuration: w.target,
		ServerControl: &hls.ServerControl{
			CanBlockReload: true,
			PartHoldBack:   3 * g.Part,
			HoldBack:       3 * time.Duration(w.target) * time.Second,
		},
		PartTarget:            g.Part,
		MediaSequence:         w.segs[w.first].Number,
		DiscontinuitySequence: int64(snap.DiscontinuitySeq) + discontinuitiesThrough(w.segs, w.first),
		Segments:              entries(w, g, keyOf),
		RenditionReports:      reports,
	}
	if w.hint {
		m.PreloadHint = nextPartURI(w.segs[len(w.segs)-1], g)
	}
	return m, true
}

// window is the part of a snapshot a media playlist lists.
type window struct {
	segs   []live.Segment // the snapshot's segments, up to the last listed
	first  int            // index of the first listed segment
	target int            // EXT-X-TARGETDURATION, seconds
	hint   bool           // whether to write a preload hint
	whole  bool           // whole segments only: no parts (AES-128)
}

// selectWindow picks the listed segments; ok is false without a complete
// segment.
func selectWindow(snap *live.Snapshot, span time.Duration) (window, bool) {
	segs := snap.Segments
	alignWalls(segs)
	lastC := -1
	for i := len(segs) - 1; i >= 0; i-- {
		if segs[i].Complete {
			lastC = i
			break
		}
	}
	if lastC < 0 {
		return window{}, false
	}
	d, dTicks := snap.Grid.Segment, snap.Grid.SegmentTicks()
	minTarget := int((d + time.Second - 1) / time.Second) // ceil(D)
	// Section 6.2.2: never shorter than three target durations plus a
	// segment.
	count := max(int64(span/d), (int64(3*minTarget)*media.Timescale+dTicks-1)/dTicks+1)
	w := window{segs: segs, first: lastC, hint: !snap.Ended}
	if lastC < len(segs)-1 && segs[len(segs)-1].Number-segs[lastC].Number > count {
		// A new session far ahead of the newest complete segment (a long
		// outage): listing it would take more gap entries than the window
		// holds. It appears once its first segment completes.
		w.segs, w.hint = segs[:lastC+1], false
	}
	threshold := segs[lastC].Number - count
	for w.first > 0 && segs[w.first-1].Number > threshold {
		w.first--
	}
	// EXT-X-TARGETDURATION: section 4.4.3.1 requires every EXTINF rounded
	// to the nearest integer to be at most the target; rounding (rather
	// than ceiling) keeps the target stable when a segment runs a frame
	// long.
	w.target = minTarget
	for _, s := range segs[w.first : lastC+1] {
		w.target = max(w.target, int((s.Duration+media.Timescale/2)/media.Timescale))
	}
	return w, true
}

// entries lists the window's segments, gap entries and parts. Parts are
// listed for segments that end within three target durations of the
// playlist's end (section 4.4.4.9), and always for the segment in progress.
func entries(w window, g media.Grid, keyOf func(*live.Segment) *hls.Key) []hls.Segment {
	segs := w.segs
	last := segs[len(segs)-1]
	end := last.Start + last.Duration
	if !last.Complete {
		end = last.Start
		if n := len(last.Parts); n > 0 {
			end = last.Parts[n-1].Start + last.Parts[n-1].Duration
		}
	}
	partsFrom := end - int64(3*w.target)*media.Timescale

	out := make([]hls.Segment, 0, len(segs)-w.first+4)
	prevInit := ""
	var prevKey *hls.Key
	next := segs[w.first].Number
	for i := w.first; i < len(segs); i++ {
		s := &segs[i]
		gap := next < s.Number
		for ; next < s.Number; next++ {
			// Gaps are never listed before the first real segment, so
			// segs[i-1] exists.
			out = append(out, gapEntry(&segs[i-1], next, g.Segment))
		}
		next = s.Number + 1
		// The first entry never carries EXT-X-DISCONTINUITY: its
		// discontinuity is already counted in the sequence number.
		e := hls.Segment{Discontinuity: i > w.first && (s.Discontinuity || gap), ProgramDateTime: s.Wall}
		initName := s.Init
		if initName == "" {
			initName = live.InitName(true, 0)
		}
		if initName != prevInit {
			e.Map, prevInit = initName, initName
			// An AES-128 key in force would apply to the new init, which
			// is clear: end it before the map and state it again after.
			e.UnkeyMap = w.whole && prevKey != nil
			if e.UnkeyMap {
				prevKey = nil
			}
		}
		if keyOf != nil {
			if k := keyOf(s); prevKey == nil || *k != *prevKey {
				e.Key, prevKey = k, k
				// cbcs/cenc inits are protected with the segment's key:
				// the key tag comes first so that it covers the map.
				e.KeyBeforeMap = !w.whole
			}
		}
		if s.Complete {
			e.Duration, e.URI = media.Duration(s.Duration), segmentURI(s.Number)
		}
		if !w.whole && (!s.Complete || s.Start+s.Duration > partsFrom) {
			e.Parts = make([]hls.Part, len(s.Parts))
			for j, p := range s.Parts {
				e.Parts[j] = hls.Part{Duration: media.Duration(p.Duration), URI: partURI(s.Number, j), Independent: p.Independent}
			}
		}
		out = append(out, e)
	}
	return out
}

// gapEntry is the EXT-X-GAP entry for missing segment n after segment prev,
// dated as if the media had continued.
func gapEntry(prev *live.Segment, n int64, d time.Duration) hls.Segment {
	var wall time.Time
	if !prev.Wall.IsZero() {
		wall = prev.Wall.Add(media.Duration(prev.Duration) + time.Duration(n-prev.Number-1)*d)
	}
	return hls.Segment{ProgramDateTime: wall, Gap: true, Duration: d, URI: segmentURI(n)}
}

// discontinuitiesThrough counts the discontinuities of segs[0..first]: the
// segments the playlist no longer lists but the index still holds, and the
// first listed one, whose EXT-X-DISCONTINUITY is folded into the sequence
// number. So EXT-X-DISCONTINUITY-SEQUENCE advances exactly as tags leave
// the playlist (section 6.2.2), under either reading of a tag on the first
// segment.
//
// A segment right after a numbering gap counts only while the segment
// before the gap is still in the index: once that one is evicted the gap
// is invisible, so the sequence stays exact only if the packager also sets
// Segment.Discontinuity after a gap.
func discontinuitiesThrough(segs []live.Segment, first int) int64 {
	var n int64
	for i := 0; i <= first; i++ {
		if segs[i].Discontinuity || i > 0 && segs[i].Number != segs[i-1].Number+1 {
			n++
		}
	}
	return n
}

// nextPartURI returns the URI of the part that follows the newest one.
func nextPartURI(last live.Segment, g media.Grid) string {
	if !last.Complete && len(last.Parts) < g.PartsPerSegment() {
		return partURI(last.Number, len(last.Parts))
	}
	return partURI(last.Number+1, 0)
}

func segmentURI(n int64) string {
	return strconv.FormatInt(n, 10) + ".m4s"
}

func partURI(n int64, p int) string {
	return strconv.FormatInt(n, 10) + "." + strconv.Itoa(p) + ".m4s"
}

// alignWalls makes PROGRAM-DATE-TIME consistent with media time within each
// run of contiguous segments (no number gap, no discontinuity): every
// segment is dated back from the run's newest one. The packager dates a
// segment when it opens, from the session's wall tie, which ingest keeps
// refining (media.Mapping.Observe); the newest date is the best, and
// dating earlier segments from it keeps PDT differences equal to EXTINF
// durations, as players expect. segs is a snapshot copy and is changed in
// place.
func alignWalls(segs []live.Segment) {
	for j := len(segs) - 1; j >= 0; {
		if segs[j].Wall.IsZero() {
			j--
			continue
		}
		i := j
		for i > 0 && !segs[i].Discontinuity && segs[i-1].Number == segs[i].Number-1 && !segs[i-1].Wall.IsZero() {
			i--
			segs[i].Wall = segs[j].Wall.Add(-media.Duration(segs[j].Start - segs[i].Start))
		}
		j = i - 1
	}
}
