package packager

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"onair/internal/format/cmaf"
	"onair/internal/live"
	"onair/internal/media"
	"onair/internal/objstore"
)

// Rendition describes one rendition for one publisher session.
type Rendition struct {
	Name string // "source", "audio", "720p60", ...
	// Track holds the codec parameters. For video, SPS/PPS (and VPS) may be
	// empty: they are then taken from the first keyframe's in-band NAL units.
	Track media.Track
	// Bitrate is the declared bits per second (0 unknown), announced in
	// manifests until segments have been measured.
	Bitrate int
	// Mapping is the session's clock mapping: the PROGRAM-DATE-TIME of
	// channel time t is Mapping.WallAt(t).
	Mapping media.Mapping
	// Protect encrypts the rendition; nil (or the clear scheme) packages
	// it in clear.
	Protect *Protection
}

// Track packages one publisher session of one rendition. It is not safe
// for concurrent use: one goroutine writes it and then closes it.
type Track struct {
	p       *Packager
	channel string
	r       Rendition
	st      *renditionState
	lr      *live.Rendition
	log     *slog.Logger
	tm      trackMetrics
	grid    media.Grid

	params    paramSets // video: parameter sets of the current init
	audioInit *newInit  // audio: the init, built at Open
	timescale uint32

	measured  int64  // video: last positive DTS step, ticks
	audioNext uint64 // audio: decode time of the next frame (samples)
	audioDur  uint32 // audio: one frame in samples
	lastDur   uint32 // last sample duration appended (track timescale)

	held *frame       // the one frame held back until the next one's DTS is known
	seg  *segBuilder  // nil until the session's first segment opens
	part *partBuilder // the part being filled

	prot *protector // nil: clear
	// clearInit is the init last published, before protection: a key
	// rotation (cbcs, cenc) publishes it again under the new key.
	clearInit *newInit

	closed bool
	warned map[string]bool // once-per-session warnings
}

// frame is one access unit ready to become a sample.
type frame struct {
	pts, dts int64  // channel ticks
	dt       uint64 // decode time in the track timescale
	cto      int32  // composition offset (PTS - DTS) in the track timescale
	sync     bool
	data     []byte
	wall     time.Time
}

// newInit is an init segment about to be published.
type newInit struct {
	params paramSets
	data   []byte
	info   cmaf.TrackInfo
}

type segBuilder struct {
	number  int64
	start   int64  // channel ticks of the first sample (PTS)
	firstDT uint64 // decode time of the first sample
	endDT   uint64 // decode time after the last emitted sample
	wall    time.Time
	disc    bool
	absPart int64 // grid part number (time / P) of the current part
	parts   [][]byte
	size    int
}

type partBuilder struct {
	index    int
	start    int64 // channel ticks
	firstDT  uint64
	endDT    uint64
	samples  []cmaf.Sample
	lastWall time.Time // ingest arrival of the newest sample
}

func newTrack(p *Packager, channel string, r Rendition, st *renditionState, lr *live.Rendition, grid media.Grid) (*Track, error) {
	t := &Track{
		p:       p,
		channel: channel,
		r:       r,
		st:      st,
		lr:      lr,
		log:     p.log.With("channel", channel, "rendition", r.Name),
		tm:      p.m.track(channel, r.Name),
		grid:    grid,
		warned:  map[string]bool{},
	}
	if pr := r.Protect; pr != nil && pr.Scheme != live.SchemeClear {
		switch pr.Scheme {
		case live.SchemeAES128, live.SchemeCBCS, live.SchemeCENC:
		default:
			return nil, fmt.Errorf("packager: open %s/%s: unknown encryption scheme %q", channel, r.Name, pr.Scheme)
		}
		if pr.Keys == nil {
			return nil, fmt.Errorf("packager: open %s/%s: %s encryption without a key source", channel, r.Name, pr.Scheme)
		}
		t.prot = &protector{p: *pr}
	}
	if r.Track.Kind == media.KindAudio {
		data, info, err := cmaf.Init(r.Track)
		if err != nil {
			return nil, fmt.Errorf("packager: open %s/%s: %w", channel, r.Name, err)
		}
		t.audioInit = &newInit{data: data, info: info}
		t.timescale = info.Timescale
		t.audioDur = info.FrameDuration
	} else {
		t.timescale = cmaf.VideoTimescale
	}
	return t, nil
}

// Write packages one channel-clock access unit. Units must come in decode
// order. Video units before the session's first keyframe are dropped
// (counted). Storage problems never surface here.
func (t *Track) Write(u media.Unit) error {
	if t.closed {
		return ErrClosed
	}
	if u.Kind != t.r.Track.Kind {
		return fmt.Errorf("packager: %s/%s: %v unit on a %v track", t.channel, t.r.Name, u.Kind, t.r.Track.Kind)
	}
	if u.DTS < 0 || u.PTS < 0 {
		t.tm.drop("negative_timestamp")
		return nil
	}
	var f *frame
	var ni *newInit
	if u.Kind == media.KindVideo {
		f, ni = t.videoFrame(&u)
	} else {
		f = t.audioFrame(&u)
		if f != nil && t.seg == nil {
			ni = t.audioInit
		}
	}
	if f == nil {
		return nil
	}
	t.place(f, ni)
	return nil
}

// Close ends the session: the held frame gets the previous sample's
// duration, the trailing part and segment are published with their real
// duration, and the rendition is marked ended in the live index.
func (t *Track) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	if t.held != nil {
		dur := t.lastDur
		if dur == 0 {
			dur = t.defaultDuration()
		}
		t.appendSample(t.held, dur)
		t.held = nil
	}
	t.emitPart()
	t.completeSegment()
	t.lr.End()
	t.p.release(t.st)
	return nil
}

// Abort ends the Track without completing its unfinished segment: the
// segment and its parts leave the live index (objects already stored
// stay) and waiters are woken. Use it when the media source failed and
// another pipeline has the segment whole.
func (t *Track) Abort() error {
	if t.closed {
		return nil
	}
	t.closed = true
	t.held = nil
	t.lr.DropIncomplete()
	t.p.release(t.st)
	return nil
}

// defaultDuration is a sample duration for a lone frame.
func (t *Track) defaultDuration() uint32 {
	if t.audioDur > 0 {
		return t.audioDur
	}
	return uint32(2 * t.halfFrame())
}

// halfFrame is half a frame in channel ticks: it tolerates timestamp jitter
// around grid boundaries.
func (t *Track) halfFrame() int64 {
	if t.audioDur > 0 {
		return int64(t.audioDur) * media.Timescale / int64(t.timescale) / 2
	}
	if fps := t.r.Track.FPS; fps > 0 {
		return int64(math.Round(media.Timescale / fps / 2))
	}
	if t.measured > 0 {
		return t.measured / 2
	}
	return media.Timescale / 60 / 2
}

// ticks converts a track decode time to channel ticks.
func (t *Track) ticks(dt uint64) int64 {
	if t.timescale == media.Timescale {
		return int64(dt)
	}
	num := dt*media.Timescale + uint64(t.timescale)/2
	return int64(num / uint64(t.timescale))
}

// absPart is the grid part (time / P) that decides f's part.
func (t *Track) absPart(f *frame) int64 {
	at := f.dts
	if t.audioDur > 0 {
		at = f.pts
	}
	return floorDiv(at+t.halfFrame(), t.grid.PartTicks())
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// place puts f into the current part, a new part or a new segment, after
// appending the held frame (now that its duration is known).
func (t *Track) place(f *frame, ni *newInit) {
	half := t.halfFrame()
	if t.seg == nil {
		n := t.grid.SegmentAt(f.pts + half)
		if t.st.hasLast && n <= t.st.lastSeg {
			// Objects are immutable and numbers never go back.
			t.tm.drop("segment_exists")
			t.warnOnce("segment_exists", "media before the end of the previous session dropped: segment numbers never go back",
				"segment", n, "last", t.st.lastSeg)
			return
		}
		changed, ok := t.publishInit(ni, n)
		if !ok || !t.segmentKey(n) {
			t.tm.drop("no_key")
			return
		}
		disc := t.st.hasLast && (changed || n != t.st.lastSeg+1)
		t.openSegment(f, n, disc)
		t.held = f
		return
	}

	if h := t.held; h != nil {
		t.appendSample(h, uint32(min(f.dt-h.dt, math.MaxUint32)))
	}

	cur := t.seg.number
	n, cut := cur, false
	if t.audioDur > 0 || f.sync {
		if s := t.grid.SegmentAt(f.pts + half); s > cur {
			n, cut = s, true
		}
	}
	if !cut && t.audioDur == 0 {
		if s := t.grid.SegmentAt(f.dts + half); s > cur {
			n, cut = s, true
		}
	}
	if ni != nil && !cut {
		// New parameter sets mid-segment: the segment cannot change its
		// init, so it ends here and the next number starts early.
		n, cut = cur+1, true
	}
	switch {
	case cut:
		t.emitPart()
		t.completeSegment()
		disc := n > cur+1 // the timeline jumped over whole segments
		if ni != nil {
			if _, ok := t.publishInit(ni, n); !ok {
				t.stall()
				return
			}
			disc = true
		} else if t.keyRotates(n) {
			// Same media, new key: a new protected init (its tenc names
			// the key), no discontinuity.
			if _, ok := t.publishInit(t.clearInit, n); !ok {
				t.stall()
				return
			}
		}
		if !t.segmentKey(n) {
			t.stall()
			return
		}
		t.openSegment(f, n, disc)
	case t.absPart(f) > t.seg.absPart:
		t.emitPart()
		t.seg.absPart = t.absPart(f)
		t.part = &partBuilder{index: t.part.index + 1, start: t.startTicks(f), firstDT: f.dt}
	}
	t.held = f
}

// startTicks is the channel time announced as f's start.
func (t *Track) startTicks(f *frame) int64 {
	if t.audioDur > 0 {
		return t.ticks(f.dt)
	}
	return f.pts
}

func (t *Track) openSegment(f *frame, n int64, disc bool) {
	k := int64(t.grid.PartsPerSegment())
	a := t.absPart(f)
	if a == n*k-1 {
		// A keyframe whose DTS is a few frames early (B-frames) belongs to
		// part 0.
		a = n * k
	}
	start := t.startTicks(f)
	var wall time.Time
	if !t.r.Mapping.AnchorWall.IsZero() {
		wall = t.r.Mapping.WallAt(start)
	}
	t.seg = &segBuilder{number: n, start: start, firstDT: f.dt, endDT: f.dt, wall: wall, disc: disc, absPart: a}
	t.part = &partBuilder{index: 0, start: start, firstDT: f.dt}
	if !f.sync {
		t.tm.unaligned.Inc()
		t.warnOnce("unaligned", "segment does not start with a keyframe: the source's GOP is not aligned to the segment grid",
			"segment", n, "segment_duration", t.grid.Segment)
	}
}

func (t *Track) appendSample(h *frame, dur uint32) {
	if dur == 0 {
		dur = 1
	}
	t.part.samples = append(t.part.samples, cmaf.Sample{Duration: dur, CompositionOffset: h.cto, Sync: h.sync, Data: h.data})
	t.part.endDT = h.dt + uint64(dur)
	if !h.wall.IsZero() {
		t.part.lastWall = h.wall
	}
	t.lastDur = dur
}

// emitPart publishes the part being filled: live index first, then store.
func (t *Track) emitPart() {
	pb, sb := t.part, t.seg
	if pb == nil || sb == nil || len(pb.samples) == 0 {
		return
	}
	t.st.seq++
	var (
		frag []byte
		err  error
	)
	if t.prot != nil && t.prot.ipd != nil {
		frag, err = t.prot.encryptFragment(t.st.seq, pb.firstDT, pb.samples)
	} else {
		frag, err = cmaf.Fragment(t.st.seq, pb.firstDT, pb.samples)
	}
	if err != nil {
		// Only an impossible sample set gets here; losing the part is the
		// least harm.
		t.tm.drop("fragment_error")
		t.log.Error("build fragment", "segment", sb.number, "part", pb.index, "err", err)
		pb.samples = nil
		return
	}
	clear := frag
	if pb.index == 0 {
		clear = append(cmaf.Styp(), frag...)
	}
	data := clear
	if t.prot != nil && t.prot.p.Scheme == live.SchemeAES128 {
		if data, err = EncryptAES128(t.prot.key.Value, partIV(sb.number, pb.index), clear); err != nil {
			t.tm.drop("encrypt_error")
			t.log.Error("encrypt part", "segment", sb.number, "part", pb.index, "err", err)
			pb.samples = nil
			return
		}
	}
	lp := live.Part{
		Index:       pb.index,
		Start:       pb.start,
		Duration:    t.ticks(pb.endDT) - t.ticks(pb.firstDT),
		Independent: pb.samples[0].Sync,
	}
	t.lr.AddPart(sb.number, sb.start, sb.wall, sb.disc, lp, data)
	if !pb.lastWall.IsZero() {
		t.tm.latency.Observe(time.Since(pb.lastWall).Seconds())
	}
	t.tm.parts.Inc()
	t.tm.bytes.Add(float64(len(data)))
	sb.parts = append(sb.parts, clear)
	sb.size += len(clear)
	sb.endDT = pb.endDT
	pb.samples = nil
	t.p.w.put(live.PartKey(t.channel, t.r.Name, sb.number, pb.index), data)
}

// completeSegment closes the current segment in the index and the store,
// and schedules the segments that left the window for deletion.
func (t *Track) completeSegment() {
	sb := t.seg
	if sb == nil || len(sb.parts) == 0 {
		return
	}
	data := make([]byte, 0, sb.size)
	for _, p := range sb.parts {
		data = append(data, p...)
	}
	if t.prot != nil && t.prot.p.Scheme == live.SchemeAES128 {
		var err error
		if data, err = EncryptAES128(t.prot.key.Value, SegmentIV(sb.number), data); err != nil {
			// Only a key of the wrong length gets here, and keyFor
			// refuses those.
			t.tm.drop("encrypt_error")
			t.log.Error("encrypt segment", "segment", sb.number, "err", err)
			t.lr.DropIncomplete()
			sb.parts = nil
			return
		}
	}
	dur := t.ticks(sb.endDT) - t.ticks(sb.firstDT)
	gone := t.lr.CompleteSegment(sb.number, dur, data)
	t.p.w.put(live.SegmentKey(t.channel, t.r.Name, sb.number), data)
	t.st.hasLast, t.st.lastSeg = true, sb.number
	t.tm.segments.Inc()
	peak, avg := t.st.meter.add(len(data), dur, t.p.windowSegments(t.grid), t.grid.SegmentTicks()/2)
	if peak > 0 || avg > 0 {
		t.lr.UpdateBandwidth(peak, avg)
	}
	sb.parts = nil
	if len(gone) > 0 {
		var keys []string
		for _, g := range gone {
			for i := range g.Parts {
				keys = append(keys, live.PartKey(t.channel, t.r.Name, g.Number, i))
			}
			keys = append(keys, live.SegmentKey(t.channel, t.r.Name, g.Number))
		}
		t.p.w.scheduleDelete(time.Now().Add(t.p.cfg.Retention), keys)
	}
}

// publishInit makes ni the rendition's init for segments from n on, and
// reports whether the init differs from the rendition's previous one.
// Init objects are immutable: a changed init gets a new name. A protected
// (cbcs, cenc) init is encrypted with segment n's key; ok is false when
// that fails, and the caller drops the media.
func (t *Track) publishInit(ni *newInit, n int64) (changed, ok bool) {
	st := t.st
	data := ni.data
	t.clearInit = ni
	var prot live.Protection
	if pr := t.prot; pr != nil {
		prot.Scheme = pr.p.Scheme
		if pr.p.Scheme != live.SchemeAES128 {
			k, err := pr.keyFor(n)
			if errors.Is(err, errNoKey) {
				t.warnOnce("no_key", "media dropped: no content key yet", "segment", n, "err", err)
				return false, false
			}
			if err != nil {
				t.warnOnce("key_kept", "content key source failed; the previous key stays", "err", err)
			}
			if data, prot, err = pr.protectInit(ni.data, k); err != nil {
				t.warnOnce("protect_init", "media dropped: cannot protect the init segment", "segment", n, "err", err)
				return false, false
			}
		}
	}
	if ni.info.Kind == media.KindVideo {
		t.params = ni.params
	}
	name := st.initName
	changed = st.init == nil || !bytes.Equal(st.init, data)
	if changed {
		name = t.initName(n, data)
	}
	info := live.Info{
		Kind:       ni.info.Kind,
		Codecs:     ni.info.Codecs,
		Width:      ni.info.Width,
		Height:     ni.info.Height,
		FPS:        t.r.Track.FPS,
		Timescale:  ni.info.Timescale,
		Channels:   ni.info.Channels,
		Bandwidth:  t.r.Bitrate + t.r.Bitrate/10,
		Average:    t.r.Bitrate,
		Protection: prot,
	}
	if snap := t.lr.Snapshot(); st.meter.measured() && snap.Info.Bandwidth > 0 {
		info.Bandwidth, info.Average = snap.Info.Bandwidth, snap.Info.Average
	}
	t.lr.SetInit(info, name, data)
	if changed {
		t.p.w.put(live.InitKey(t.channel, t.r.Name, name), data)
		st.init, st.initName = data, name
	}
	return changed, true
}

// keyRotates reports whether segment n of a cbcs or cenc rendition takes
// a key other than the one its init was protected with (the channel
// rotates keys); a key source failure keeps the key.
func (t *Track) keyRotates(n int64) bool {
	pr := t.prot
	if pr == nil || pr.p.Scheme == live.SchemeAES128 || !pr.has || t.clearInit == nil {
		return false
	}
	k, err := pr.p.Keys.KeyFor(n)
	return err == nil && k.ID != pr.key.ID
}

// segmentKey readies the key of segment n: for SchemeAES128 the
// whole-segment key, fetched here; for cbcs and cenc the key the current
// init was protected with, recorded for the playlists' EXT-X-KEY. False
// means there is none and the media must be dropped.
func (t *Track) segmentKey(n int64) bool {
	pr := t.prot
	if pr == nil {
		return true
	}
	if pr.p.Scheme != live.SchemeAES128 {
		t.lr.SetKey(pr.key.ID)
		return true
	}
	k, err := pr.keyFor(n)
	if errors.Is(err, errNoKey) {
		t.warnOnce("no_key", "media dropped: no content key yet", "segment", n, "err", err)
		return false
	}
	if err != nil {
		t.warnOnce("key_kept", "content key source failed; the previous key stays", "err", err)
	}
	t.lr.SetKey(k.ID)
	return true
}

// stall drops the frame at hand and everything up to the next random
// access point, after a segment could not open (no key).
func (t *Track) stall() {
	t.tm.drop("no_key")
	t.seg, t.part, t.held = nil, nil, nil
}

// initName names a new init first used by segment n. The rendition's
// first init is "init.mp4" unless storage already holds a different
// "init.mp4" (from before a restart): objects are never overwritten.
func (t *Track) initName(n int64, data []byte) string {
	if t.st.init != nil {
		return live.InitName(false, n)
	}
	first := live.InitName(true, n)
	ctx, cancel := context.WithTimeout(context.Background(), putTimeout)
	defer cancel()
	old, err := t.p.store.Get(ctx, live.InitKey(t.channel, t.r.Name, first))
	switch {
	case errors.Is(err, objstore.ErrNotFound), err == nil && bytes.Equal(old, data):
		return first
	case err != nil:
		t.p.w.failed("get", live.InitKey(t.channel, t.r.Name, first), err)
	}
	return live.InitName(false, n)
}

func (t *Track) warnOnce(key, msg string, args ...any) {
	if t.warned[key] {
		return
	}
	t.warned[key] = true
	t.log.Warn(msg, args...)
}
