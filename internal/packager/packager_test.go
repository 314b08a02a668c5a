package packager

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"onair/internal/format/cmaf"
	"onair/internal/live"
	"onair/internal/media"
	"onair/internal/objstore"
)

const (
	segTicks  = 180000 // D = 2 s
	partTicks = 45000  // P = 500 ms
	anchorSeg = 100    // sessions start at segment 100 (t = 200 s)
)

var testGrid = media.Grid{Segment: 2 * time.Second, Part: 500 * time.Millisecond}

type fixture struct {
	p     *Packager
	store objstore.Store
	index *live.Index
	reg   *prometheus.Registry
}

func newFixture(t testing.TB, cfg Config, store objstore.Store) *fixture {
	t.Helper()
	if store == nil {
		fs, err := objstore.NewFS(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		store = fs
	}
	if cfg.Grid == (media.Grid{}) {
		cfg.Grid = testGrid
	}
	reg := prometheus.NewRegistry()
	index := live.NewIndex(0)
	p, err := New(cfg, store, index, slog.New(slog.DiscardHandler), reg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{p: p, store: store, index: index, reg: reg}
}

func (f *fixture) snapshot(t testing.TB, rendition string) live.Snapshot {
	t.Helper()
	ch, ok := f.index.Lookup("ch")
	if !ok {
		t.Fatal("channel not in index")
	}
	r, ok := ch.Lookup(rendition)
	if !ok {
		t.Fatalf("rendition %s not in index (or no init)", rendition)
	}
	return r.Snapshot()
}

func (f *fixture) get(t testing.TB, key string) []byte {
	t.Helper()
	b, err := f.store.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return b
}

// write opens a session, writes units and closes it.
func (f *fixture) write(t testing.TB, r Rendition, units []media.Unit) {
	t.Helper()
	tr, err := f.p.Open("ch", r)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if err := tr.Write(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
}

func videoRendition(name string, fps float64) Rendition {
	return Rendition{
		Name:    name,
		Track:   media.Track{Kind: media.KindVideo, Codec: media.CodecH264, FPS: fps},
		Bitrate: 500_000,
		Mapping: media.Mapping{Anchor: anchorSeg * segTicks, AnchorWall: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
	}
}

// checkSegmentObjects verifies what a player would fetch for segment s:
// the segment object equals styp + its parts, only part 0 has the styp,
// and the fragments' tfdt/durations agree with the index.
func checkSegmentObjects(t *testing.T, f *fixture, rendition string, s live.Segment, timescale int64) []cmaf.FragmentInfo {
	t.Helper()
	seg := f.get(t, live.SegmentKey("ch", rendition, s.Number))
	var joined []byte
	for i := range s.Parts {
		part := f.get(t, live.PartKey("ch", rendition, s.Number, i))
		boxes, err := cmaf.Boxes(part)
		if err != nil {
			t.Fatal(err)
		}
		if hasStyp := boxes[0].Type == "styp"; hasStyp != (i == 0) {
			t.Errorf("segment %d part %d: styp present = %v", s.Number, i, hasStyp)
		}
		joined = append(joined, part...)
	}
	if !bytes.Equal(seg, joined) {
		t.Errorf("segment %d object is not the concatenation of its %d parts", s.Number, len(s.Parts))
	}
	frags, err := cmaf.ParseFragments(seg)
	if err != nil {
		t.Fatal(err)
	}
	if len(frags) != len(s.Parts) {
		t.Fatalf("segment %d: %d fragments, %d parts", s.Number, len(frags), len(s.Parts))
	}
	var total uint64
	for i, fr := range frags {
		if fr.FirstSync != s.Parts[i].Independent {
			t.Errorf("segment %d part %d: first sample sync %v, index says independent %v", s.Number, i, fr.FirstSync, s.Parts[i].Independent)
		}
		if i > 0 && fr.BaseMediaDecodeTime != frags[i-1].BaseMediaDecodeTime+frags[i-1].Duration {
			t.Errorf("segment %d part %d: tfdt %d does not follow the previous part's end %d", s.Number, i,
				fr.BaseMediaDecodeTime, frags[i-1].BaseMediaDecodeTime+frags[i-1].Duration)
		}
		if i > 0 && fr.SequenceNumber <= frags[i-1].SequenceNumber {
			t.Errorf("segment %d: mfhd sequence numbers not increasing: %d then %d", s.Number, frags[i-1].SequenceNumber, fr.SequenceNumber)
		}
		total += fr.Duration
	}
	if got := int64(total) * media.Timescale / timescale; abs(got-s.Duration) > 1 {
		t.Errorf("segment %d: fragments last %d ticks, index says %d", s.Number, got, s.Duration)
	}
	return frags
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestVideoSegmentsOnGrid(t *testing.T) {
	aus := encodeVideo(t, "libx264", "320x180", 6, 30, 60)
	tests := []struct {
		name  string
		fps   float64 // declared in the Track; 0 = measured
		aus   []accessUnit
		track func(*media.Track)
	}{
		{name: "in-band parameter sets, declared fps", fps: 30, aus: aus},
		{name: "measured fps", aus: aus},
		{name: "parameter sets only in the track", fps: 30, aus: withoutParams(aus), track: func(tr *media.Track) {
			tr.SPS, tr.PPS = h264Params(aus[0])
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{}, nil)
			r := videoRendition("360p30", tc.fps)
			if tc.track != nil {
				tc.track(&r.Track)
			}
			units := videoUnits(tc.aus, 30, anchorSeg*segTicks)
			wall := time.Now()
			for i := range units {
				units[i].Wall = wall
			}
			f.write(t, r, units)

			snap := f.snapshot(t, "360p30")
			if len(snap.Segments) != 3 {
				t.Fatalf("%d segments, want 3", len(snap.Segments))
			}
			if !strings.HasPrefix(snap.Info.Codecs, "avc1.") || snap.Info.Width != 320 || snap.Info.Height != 180 || snap.Info.Timescale != 90000 {
				t.Errorf("info %+v", snap.Info)
			}
			for i, s := range snap.Segments {
				n := int64(anchorSeg + i)
				if s.Number != n || !s.Complete || s.Start != n*segTicks || s.Duration != segTicks || s.Init != "init.mp4" {
					t.Errorf("segment %d: %+v", i, s)
				}
				if s.Discontinuity {
					t.Errorf("segment %d: discontinuity on a first session", n)
				}
				if want := r.Mapping.WallAt(n * segTicks); !s.Wall.Equal(want) {
					t.Errorf("segment %d: wall %v, want %v", n, s.Wall, want)
				}
				if len(s.Parts) != 4 {
					t.Fatalf("segment %d: %d parts, want 4", n, len(s.Parts))
				}
				for p, part := range s.Parts {
					if part.Index != p || part.Start != n*segTicks+int64(p)*partTicks || part.Duration != partTicks || part.Independent != (p == 0) {
						t.Errorf("segment %d part %d: %+v", n, p, part)
					}
				}
				frags := checkSegmentObjects(t, f, "360p30", s, 90000)
				if frags[0].BaseMediaDecodeTime != uint64(n*segTicks) {
					t.Errorf("segment %d: tfdt %d, want %d", n, frags[0].BaseMediaDecodeTime, n*segTicks)
				}
			}
			if init := f.get(t, live.InitKey("ch", "360p30", "init.mp4")); len(init) == 0 {
				t.Error("empty init")
			}
			if got := testutil.ToFloat64(f.p.m.parts.WithLabelValues("ch", "360p30")); got != 12 {
				t.Errorf("parts_total %v, want 12", got)
			}
			if got := testutil.ToFloat64(f.p.m.unaligned.WithLabelValues("ch", "360p30")); got != 0 {
				t.Errorf("unaligned %v", got)
			}
			if got := testutil.CollectAndCount(f.p.m.partLatency); got != 1 {
				t.Errorf("latency series %d", got)
			}
			if !snap.Ended {
				t.Error("rendition not marked ended after Close")
			}
		})
	}
}

func TestPartLatencyAndBandwidth(t *testing.T) {
	aus := encodeVideo(t, "libx264", "320x180", 4, 30, 60)
	f := newFixture(t, Config{}, nil)
	r := videoRendition("v", 30)
	tr, err := f.p.Open("ch", r)
	if err != nil {
		t.Fatal(err)
	}
	units := videoUnits(aus, 30, anchorSeg*segTicks)
	for i, u := range units {
		u.Wall = time.Now()
		if err := tr.Write(u); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			// Declared bitrate until measured: peak = +10 %.
			snap := f.snapshot(t, "v")
			if snap.Info.Bandwidth != 550_000 || snap.Info.Average != 500_000 {
				t.Errorf("declared bandwidth %d/%d", snap.Info.Bandwidth, snap.Info.Average)
			}
		}
	}
	// The held frame belongs to a part that is not out yet: 7 of 8 parts.
	snap := f.snapshot(t, "v")
	if n := len(snap.Segments[0].Parts) + len(snap.Segments[1].Parts); n != 7 {
		t.Errorf("%d parts before Close, want 7 (one frame held)", n)
	}
	tr.Close()

	h := readHistogram(t, f.reg, "onair_packager_part_latency_seconds")
	if h.count != 8 || h.sum > 1 {
		t.Errorf("latency histogram: %d observations summing %v s, want 8 small ones", h.count, h.sum)
	}
	snap = f.snapshot(t, "v")
	bytes := len(f.get(t, live.SegmentKey("ch", "v", anchorSeg))) + len(f.get(t, live.SegmentKey("ch", "v", anchorSeg+1)))
	if want := bytes * 8 / 4; snap.Info.Average != want {
		t.Errorf("measured average %d bit/s, want %d", snap.Info.Average, want)
	}
	if snap.Info.Bandwidth < snap.Info.Average {
		t.Errorf("peak %d below average %d", snap.Info.Bandwidth, snap.Info.Average)
	}
}

func TestUnalignedSource(t *testing.T) {
	// A 1.5 s GOP passed through: segments cannot all start on keyframes,
	// but numbering stays consecutive and on the grid.
	aus := encodeVideo(t, "libx264", "320x180", 6, 30, 45)
	f := newFixture(t, Config{}, nil)
	f.write(t, videoRendition("source", 30), videoUnits(aus, 30, anchorSeg*segTicks))
	snap := f.snapshot(t, "source")
	if len(snap.Segments) != 3 {
		t.Fatalf("%d segments", len(snap.Segments))
	}
	unaligned := 0
	for i, s := range snap.Segments {
		if s.Number != int64(anchorSeg+i) || s.Start != s.Number*segTicks {
			t.Errorf("segment %d: number %d start %d", i, s.Number, s.Start)
		}
		frags := checkSegmentObjects(t, f, "source", s, 90000)
		if !frags[0].FirstSync {
			unaligned++
		}
	}
	// Keyframes at 0, 1.5, 3, 4.5 s: segments 101 (2 s) and 102 (4 s) start
	// mid-GOP.
	if unaligned != 2 {
		t.Errorf("%d segments start without a keyframe, want 2", unaligned)
	}
	if got := testutil.ToFloat64(f.p.m.unaligned.WithLabelValues("ch", "source")); got != 2 {
		t.Errorf("unaligned_segments_total %v, want 2", got)
	}
}

func TestCloseCompletesTrailingSegment(t *testing.T) {
	aus := encodeVideo(t, "libx264", "320x180", 2.7, 30, 60) // 81 frames
	f := newFixture(t, Config{}, nil)
	f.write(t, videoRendition("v", 30), videoUnits(aus, 30, anchorSeg*segTicks))
	snap := f.snapshot(t, "v")
	if len(snap.Segments) != 2 {
		t.Fatalf("%d segments", len(snap.Segments))
	}
	last := snap.Segments[1]
	// 21 frames of 3000 ticks, the last one as long as the one before it.
	if !last.Complete || last.Duration != 21*3000 || len(last.Parts) != 2 {
		t.Errorf("trailing segment %+v", last)
	}
	checkSegmentObjects(t, f, "v", last, 90000)
}

// Abort (a failed encoder in standard mode) leaves the unfinished segment
// out of the index rather than completing it short; a later session
// continues the numbering.
func TestAbortDropsTrailingSegment(t *testing.T) {
	aus := encodeVideo(t, "libx264", "320x180", 2.7, 30, 60) // 81 frames
	f := newFixture(t, Config{}, nil)
	tr, err := f.p.Open("ch", videoRendition("v", 30))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range videoUnits(aus, 30, anchorSeg*segTicks) {
		if err := tr.Write(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Abort(); err != nil {
		t.Fatal(err)
	}
	snap := f.snapshot(t, "v")
	if len(snap.Segments) != 1 || !snap.Segments[0].Complete || snap.Segments[0].Number != anchorSeg {
		t.Fatalf("segments after abort %+v, want only the complete %d", snap.Segments, anchorSeg)
	}
	if _, err := f.p.Open("ch", videoRendition("v", 30)); err != nil {
		t.Fatalf("open after abort: %v", err)
	}
}

func TestBFramesCompositionOffsets(t *testing.T) {
	aus := encodeBFrames(t, 4, 30, 60)
	f := newFixture(t, Config{}, nil)
	units := videoUnits(aus, 30, anchorSeg*segTicks)
	if units[1].PTS == units[1].DTS {
		t.Fatal("clip has no B-frames")
	}
	f.write(t, videoRendition("source", 30), units)
	snap := f.snapshot(t, "source")
	if len(snap.Segments) != 2 {
		t.Fatalf("%d segments", len(snap.Segments))
	}
	for _, s := range snap.Segments {
		if s.Start != s.Number*segTicks || !s.Parts[0].Independent {
			t.Errorf("segment %d: start %d, independent %v", s.Number, s.Start, s.Parts[0].Independent)
		}
		checkSegmentObjects(t, f, "source", s, 90000)
	}
	if got := testutil.ToFloat64(f.p.m.unaligned.WithLabelValues("ch", "source")); got != 0 {
		t.Errorf("unaligned %v", got)
	}
}

func TestAudioTimingExact(t *testing.T) {
	tests := []struct {
		rate int
		asc  []byte
	}{
		{48000, []byte{0x11, 0x90}},
		{44100, []byte{0x12, 0x10}},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.rate), func(t *testing.T) {
			f := newFixture(t, Config{Window: 10 * time.Minute}, nil)
			frames := make([][]byte, 60*tc.rate/1024) // 60 s of frames
			for i := range frames {
				frames[i] = []byte{0x21, 0x10, byte(i)}
			}
			start := int64(anchorSeg * segTicks)
			r := Rendition{Name: "audio", Track: media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, AudioConfig: tc.asc}, Bitrate: 64000}
			f.write(t, r, audioUnits(frames, tc.rate, start))

			snap := f.snapshot(t, "audio")
			if snap.Info.Codecs != "mp4a.40.2" || snap.Info.Timescale != uint32(tc.rate) || snap.Info.Channels != 2 {
				t.Errorf("info %+v", snap.Info)
			}
			base := uint64((start*int64(tc.rate) + media.Timescale/2) / media.Timescale)
			next := base
			samples := 0
			for i, s := range snap.Segments {
				if s.Number != int64(anchorSeg+i) {
					t.Fatalf("segment %d numbered %d", i, s.Number)
				}
				for _, fr := range checkSegmentObjects(t, f, "audio", s, int64(tc.rate)) {
					if fr.BaseMediaDecodeTime != next {
						t.Fatalf("segment %d: tfdt %d, want %d (drift %d samples)", s.Number, fr.BaseMediaDecodeTime, next, int64(fr.BaseMediaDecodeTime)-int64(next))
					}
					if fr.Duration != uint64(fr.SampleCount)*1024 {
						t.Fatalf("fragment of %d samples lasts %d", fr.SampleCount, fr.Duration)
					}
					next += fr.Duration
					samples += fr.SampleCount
				}
				// Segments start within one frame of the grid.
				if i > 0 && abs(s.Start-s.Number*segTicks) > 1920 {
					t.Errorf("segment %d starts at %d, grid %d", s.Number, s.Start, s.Number*segTicks)
				}
			}
			if samples != len(frames) {
				t.Errorf("%d samples packaged, %d written", samples, len(frames))
			}
			if want := 30; len(snap.Segments) != want && len(snap.Segments) != want+1 {
				t.Errorf("%d segments for 60 s", len(snap.Segments))
			}
		})
	}
}

func TestAudioGapRealigns(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	frames := make([][]byte, 200)
	for i := range frames {
		frames[i] = []byte{1, 2, 3}
	}
	units := audioUnits(frames, 48000, anchorSeg*segTicks)
	// Drop 10 frames in the middle: the counter must follow the timestamps.
	units = append(units[:100:100], units[110:]...)
	r := Rendition{Name: "audio", Track: media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, AudioConfig: []byte{0x11, 0x90}}}
	f.write(t, r, units)
	var frags []cmaf.FragmentInfo
	for _, s := range f.snapshot(t, "audio").Segments {
		fr, err := cmaf.ParseFragments(f.get(t, live.SegmentKey("ch", "audio", s.Number)))
		if err != nil {
			t.Fatal(err)
		}
		frags = append(frags, fr...)
	}
	last := frags[len(frags)-1]
	end := last.BaseMediaDecodeTime + last.Duration
	want := uint64(anchorSeg*segTicks/90000*48000) + 200*1024
	// The counter follows the (millisecond-rounded) timestamp after the gap.
	if d := int64(end) - int64(want); d < -48 || d > 48 {
		t.Errorf("audio ends at sample %d, want %d within 1 ms", end, want)
	}
	if got := testutil.ToFloat64(f.p.m.audioResync.WithLabelValues("ch", "audio")); got != 1 {
		t.Errorf("resyncs %v, want 1", got)
	}
}

func TestSessions(t *testing.T) {
	aus := encodeVideo(t, "libx264", "320x180", 2, 30, 60)
	other := encodeVideo(t, "libx264", "256x144", 2, 30, 60)
	f := newFixture(t, Config{}, nil)
	sessions := []struct {
		aus      []accessUnit
		startSeg int64
		wantDisc bool
		wantInit string
	}{
		{aus, 100, false, "init.mp4"},      // first session
		{aus, 101, false, "init.mp4"},      // continues directly: same init, next number
		{aus, 105, true, "init.mp4"},       // gap in time
		{other, 106, true, "init-106.mp4"}, // new encoding
		{other, 107, false, "init-106.mp4"},
		{aus, 108, true, "init-108.mp4"}, // back to the first encoding: a new name, objects are immutable
		{aus, 108, false, ""},            // overlaps what exists: dropped
	}
	for _, s := range sessions {
		f.write(t, videoRendition("v", 30), videoUnits(s.aus, 30, s.startSeg*segTicks))
	}
	snap := f.snapshot(t, "v")
	if len(snap.Segments) != 6 {
		t.Fatalf("%d segments, want 6", len(snap.Segments))
	}
	for i, s := range snap.Segments {
		want := sessions[i]
		if s.Number != want.startSeg || s.Discontinuity != want.wantDisc || s.Init != want.wantInit {
			t.Errorf("session %d: segment %d disc=%v init=%s, want %d disc=%v init=%s", i, s.Number, s.Discontinuity, s.Init,
				want.startSeg, want.wantDisc, want.wantInit)
		}
		init := f.get(t, live.InitKey("ch", "v", s.Init))
		r, _ := f.index.Lookup("ch")
		rr, _ := r.Lookup("v")
		if mem, _ := rr.Init(s.Init); !bytes.Equal(mem, init) {
			t.Errorf("init %s differs between index and store", s.Init)
		}
	}
	if got := testutil.ToFloat64(f.p.m.dropped.WithLabelValues("ch", "v", "segment_exists")); got == 0 {
		t.Error("overlapping session not counted as dropped")
	}

	// Only one open session per rendition.
	tr, err := f.p.Open("ch", videoRendition("v", 30))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.Open("ch", videoRendition("v", 30)); !errors.Is(err, ErrBusy) {
		t.Errorf("second open: %v, want ErrBusy", err)
	}
	tr.Close()
	if err := tr.Write(media.Unit{Kind: media.KindVideo}); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
}

func TestParameterSetChangeMidSession(t *testing.T) {
	a := encodeVideo(t, "libx264", "320x180", 3, 30, 45) // keyframes at 0, 1.5 s
	b := encodeVideo(t, "libx264", "256x144", 2, 30, 60)
	f := newFixture(t, Config{}, nil)
	// The new encoding starts at 3 s: mid-segment 101.
	units := videoUnits(append(append([]accessUnit{}, a...), b...), 30, anchorSeg*segTicks)
	f.write(t, videoRendition("source", 30), units)
	snap := f.snapshot(t, "source")
	var got []string
	for _, s := range snap.Segments {
		got = append(got, s.Init)
		checkSegmentObjects(t, f, "source", s, 90000)
	}
	// 100 [0,2), 101 [2,3) cut early, 102 [3,5) with the new init.
	if len(snap.Segments) != 3 || snap.Segments[1].Duration != 90000 || snap.Segments[2].Number != 102 ||
		!snap.Segments[2].Discontinuity || snap.Segments[2].Init != "init-102.mp4" || snap.Segments[1].Init != "init.mp4" {
		for _, s := range snap.Segments {
			t.Logf("segment %d start %d dur %d disc %v init %s", s.Number, s.Start, s.Duration, s.Discontinuity, s.Init)
		}
		t.Fatal("unexpected segments")
	}
	if snap.Info.Width != 256 {
		t.Errorf("info width %d after the change", snap.Info.Width)
	}
}

func TestOpenErrors(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	tests := []struct {
		name string
		r    Rendition
	}{
		{"bad name", Rendition{Name: "../x", Track: media.Track{Kind: media.KindVideo, Codec: media.CodecH264}}},
		{"vp9", Rendition{Name: "v", Track: media.Track{Kind: media.KindVideo, Codec: "vp9"}}},
		{"aac without config", Rendition{Name: "a", Track: media.Track{Kind: media.KindAudio, Codec: media.CodecAAC}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.p.Open("ch", tc.r); err == nil {
				t.Error("no error")
			}
		})
	}
	// A failed Open leaves the rendition free.
	r := Rendition{Name: "a", Track: media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, SampleRate: 48000, Channels: 2}}
	tr, err := f.p.Open("ch", r)
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	if _, err := New(Config{Grid: media.Grid{Segment: time.Second, Part: 300 * time.Millisecond}}, f.store, f.index, nil, nil); err == nil {
		t.Error("New accepted a grid whose segment is not a multiple of the part")
	}
	if _, err := New(Config{Grid: testGrid}, f.store, f.index, nil, f.reg); err == nil {
		t.Error("New registered the same metrics twice")
	}
}

// histogram sums a histogram's observations over all its series.
type histogram struct {
	count uint64
	sum   float64
}

func readHistogram(t testing.TB, reg *prometheus.Registry, name string) histogram {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var h histogram
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			h.count += m.GetHistogram().GetSampleCount()
			h.sum += m.GetHistogram().GetSampleSum()
		}
	}
	return h
}
