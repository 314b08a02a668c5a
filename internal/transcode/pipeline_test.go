package transcode

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"onair/internal/media"
	"onair/internal/stream"
)

// checkLadderRecording asserts what a packager would rely on: the
// recording starts with a keyframe, every keyframe sits on a segment
// boundary (relative to the anchor) within one frame, every boundary in
// the covered span has a keyframe, DTS increase, timestamps equal input
// timestamps, and Wall is the ingest time of the input frame.
//
// Frames with no input twin (the fps filter fills a hole in the input, or
// pads back to the anchor when the source starts with a B-frame delay)
// are allowed only where synthetic(pts) says so.
func checkLadderRecording(t *testing.T, rec recording, anchor int64, fps float64, inputWalls map[int64]time.Time, offset int64, synthetic func(pts int64) bool) {
	t.Helper()
	name := rec.r.Name
	if len(rec.units) == 0 {
		t.Fatalf("%s: no units", name)
	}
	if !rec.units[0].Key {
		t.Errorf("%s: first unit is not a keyframe", name)
	}
	d := testGrid.SegmentTicks()
	frame := int64(float64(media.Timescale) / fps)
	var keys []int64
	for i, u := range rec.units {
		if i > 0 && u.DTS <= rec.units[i-1].DTS {
			t.Fatalf("%s: DTS not increasing at %d: %d after %d", name, i, u.DTS, rec.units[i-1].DTS)
		}
		if u.PTS != u.DTS {
			t.Errorf("%s: PTS %d != DTS %d (B-frames in a ladder rendition)", name, u.PTS, u.DTS)
		}
		wall, ok := inputWalls[u.PTS-offset]
		switch {
		case !ok && (synthetic == nil || !synthetic(u.PTS)):
			t.Errorf("%s: output PTS %d matches no input frame", name, u.PTS)
		case ok && !u.Wall.Equal(wall):
			t.Errorf("%s: unit %d Wall %v, want input's %v", name, i, u.Wall, wall)
		}
		if u.Key {
			keys = append(keys, u.PTS)
		}
	}
	for _, k := range keys {
		rel := (k - anchor) % d
		if rel > frame/2 && d-rel > frame {
			t.Errorf("%s: keyframe at %d is %.3f s after a segment boundary (more than one frame off the grid)", name, k, float64(rel)/media.Timescale)
		}
	}
	// Every boundary between the first and last frame has a keyframe.
	first, last := rec.units[0].PTS, rec.units[len(rec.units)-1].PTS
	for b := anchor + ((first-anchor)/d+1)*d; b <= last; b += d {
		if !slices.ContainsFunc(keys, func(k int64) bool { return k >= b && k-b <= frame }) {
			t.Errorf("%s: no keyframe at the segment boundary %d (keys %v)", name, b, keys)
		}
	}
}

func firstVideoPTS(c clip) int64 {
	first := int64(1 << 62)
	for _, u := range c.units {
		if u.Kind == media.KindVideo {
			first = min(first, u.PTS)
		}
	}
	return first
}

func TestPipelineEndToEnd(t *testing.T) {
	c := makeClip(t, 5)
	h := startPipeline(t, Config{Passthrough: true})
	// Real time, so the latency through ffmpeg is what a viewer gets.
	pub, walls := mustPublish(t, h.st, c, 1, nil)
	pub.Close()
	h.out.waitFor(t, "every sink closed", 20*time.Second, func() bool {
		return h.out.allClosed("source", "audio", "240p30", "120p15")
	})
	sess := pub.Session()
	anchor, offset := sess.Mapping.Anchor, sess.Mapping.Offset
	if anchor%testGrid.SegmentTicks() != 0 {
		t.Fatalf("anchor %d not on the grid", anchor)
	}

	// Source and audio pass through untouched, with channel timestamps.
	var wantVideo, wantAudio []media.Unit
	for _, u := range c.units {
		if u.Kind == media.KindVideo {
			wantVideo = append(wantVideo, u)
		} else if u.DTS+offset >= anchor {
			wantAudio = append(wantAudio, u)
		}
	}
	for _, tc := range []struct {
		name string
		want []media.Unit
	}{{"source", wantVideo}, {"audio", wantAudio}} {
		recs := h.out.get(tc.name)
		if len(recs) != 1 {
			t.Fatalf("%s opened %d times, want 1", tc.name, len(recs))
		}
		got := recs[0].units
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %d units, want %d", tc.name, len(got), len(tc.want))
		}
		for i, u := range got {
			w := tc.want[i]
			if u.PTS != w.PTS+offset || u.DTS != w.DTS+offset || u.Key != w.Key || !bytes.Equal(u.Audio, w.Audio) || len(u.NALUs) != len(w.NALUs) {
				t.Fatalf("%s unit %d changed: got pts %d dts %d key %v, want pts %d dts %d key %v", tc.name, i, u.PTS, u.DTS, u.Key, w.PTS+offset, w.DTS+offset, w.Key)
			}
			for j := range u.NALUs {
				if !bytes.Equal(u.NALUs[j], w.NALUs[j]) {
					t.Fatalf("%s unit %d NALU %d changed", tc.name, i, j)
				}
			}
		}
	}
	if r := h.out.get("source")[0].r; r.Track.Width != 320 || r.Mapping != sess.Mapping {
		t.Errorf("source rendition %+v", r)
	}
	if r := h.out.get("audio")[0].r; r.Track.Codec != media.CodecAAC || r.Track.SampleRate != 48000 {
		t.Errorf("audio rendition %+v", r.Track)
	}

	tests := []struct {
		name          string
		width, height int
		fps           float64
		bitrate       int
	}{
		{"240p30", 320, 240, 30, 300_000},
		{"120p15", 160, 120, 15, 100_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := h.out.get(tt.name)
			if len(recs) != 1 {
				t.Fatalf("opened %d times, want 1", len(recs))
			}
			rec := recs[0]
			tk := rec.r.Track
			if tk.Width != tt.width || tk.Height != tt.height || tk.FPS != tt.fps || rec.r.Bitrate != tt.bitrate || tk.Codec != media.CodecH264 || len(tk.SPS) == 0 || len(tk.PPS) == 0 {
				t.Errorf("rendition %+v, track %dx%d@%v", rec.r, tk.Width, tk.Height, tk.FPS)
			}
			if rec.r.Mapping != sess.Mapping {
				t.Errorf("mapping %+v, want %+v", rec.r.Mapping, sess.Mapping)
			}
			// The whole clip comes out: every slot at the rendition's rate
			// from the anchor to the last input frame.
			lastIn := int64(0)
			for _, u := range wantVideo {
				lastIn = max(lastIn, u.PTS+offset)
			}
			want := int((lastIn-anchor)*int64(tt.fps)/media.Timescale) + 1
			if len(rec.units) < want-1 || len(rec.units) > want {
				t.Errorf("%d frames, want %d", len(rec.units), want)
			}
			if rec.units[0].PTS != anchor {
				t.Errorf("first frame at %d, want the anchor %d", rec.units[0].PTS, anchor)
			}
			// The source starts with a B-frame delay: the fps filter pads
			// back to the anchor.
			checkLadderRecording(t, rec, anchor, tt.fps, walls, offset, func(pts int64) bool { return pts < firstVideoPTS(c)+offset })
		})
	}

	// Latency from ingest to ffmpeg output of the top rendition.
	rec := h.out.get("240p30")[0]
	var lat []time.Duration
	for i, u := range rec.units {
		if !u.Wall.IsZero() {
			lat = append(lat, rec.arrived[i].Sub(u.Wall))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	med := lat[len(lat)/2]
	t.Logf("latency through ffmpeg: median %v, max %v", med, lat[len(lat)-1])
	// About 0.6 s on an idle machine (10 frames of lookahead); allow
	// for two shared, busy cores.
	if med > 2*time.Second {
		t.Errorf("median latency through ffmpeg %v, want < 2 s", med)
	}

	st := h.p.Status()
	if st.State != StateIdle || st.Restarts != 0 || st.LastError != "" || st.Dropped != 0 || len(st.Renditions) != 0 {
		t.Errorf("status after the session %+v", st)
	}
}

// TestPipelineGapAndRestartedSession feeds a stream with a hole (what a
// reader that fell behind sees: frames missing up to a keyframe), then a
// second session: keyframes stay on the grid, nothing fails, and the new
// session restarts everything.
func TestPipelineGapAndNewSession(t *testing.T) {
	c := makeClip(t, 4)
	h := startPipeline(t, Config{Passthrough: true})
	// Drop video from frame 40 to the keyframe at frame 75 (GOP 25).
	videoIdx := 0
	var holeFirst, holeLast int64 = 1 << 62, -1
	pub, walls := mustPublish(t, h.st, c, 0, func(_ int, u media.Unit) bool {
		if u.Kind != media.KindVideo {
			return false
		}
		videoIdx++
		if videoIdx > 40 && videoIdx <= 75 {
			holeFirst, holeLast = min(holeFirst, u.PTS), max(holeLast, u.PTS)
			return true
		}
		return false
	})
	pub.Close()
	h.out.waitFor(t, "first session's sinks closed", 20*time.Second, func() bool {
		return h.out.allClosed("source", "audio", "240p30", "120p15")
	})
	sess := pub.Session()
	for _, name := range []string{"240p30", "120p15"} {
		recs := h.out.get(name)
		if len(recs) != 1 {
			t.Fatalf("%s opened %d times, want 1", name, len(recs))
		}
		fps := 30.0
		if name == "120p15" {
			fps = 15
		}
		off := sess.Mapping.Offset
		// The fps filter fills the hole (and pads the B-frame delay at
		// the start) with repeated frames.
		checkLadderRecording(t, recs[0], sess.Mapping.Anchor, fps, walls, off, func(pts int64) bool {
			return pts < firstVideoPTS(c)+off || pts >= holeFirst+off && pts <= holeLast+off
		})
	}

	// A second session: new sinks, anchored after the first.
	pub2, _ := mustPublish(t, h.st, c, 0, nil)
	pub2.Close()
	h.out.waitFor(t, "second session's sinks", 20*time.Second, func() bool {
		return len(h.out.opens["240p30"]) == 2 && h.out.allClosed("source", "audio", "240p30", "120p15")
	})
	s2 := pub2.Session()
	if s2.Mapping.Anchor <= sess.Mapping.Anchor {
		t.Errorf("second anchor %d not after first %d", s2.Mapping.Anchor, sess.Mapping.Anchor)
	}
	rec := h.out.get("240p30")[1]
	if rec.r.Mapping != s2.Mapping || rec.units[0].PTS != s2.Mapping.Anchor || !rec.units[0].Key {
		t.Errorf("second session's rendition starts at %d (key %v), want the anchor %d", rec.units[0].PTS, rec.units[0].Key, s2.Mapping.Anchor)
	}
	if st := h.p.Status(); st.Restarts != 0 || st.LastError != "" {
		t.Errorf("status %+v", st)
	}
}

// ffmpeg killed mid-session: it restarts with backoff, OnFailure hears of
// it, and the ladder renditions' unfinished segment is closed short (single
// mode) or abandoned (AbortOnFailure, standard mode).
func TestPipelineKilledFFmpegRestarts(t *testing.T) {
	for _, abort := range []bool{false, true} {
		t.Run(fmt.Sprintf("abort=%v", abort), func(t *testing.T) {
			c := makeClip(t, 8)
			failures := make(chan error, 4)
			h := startPipeline(t, Config{Passthrough: true, RestartMin: 50 * time.Millisecond, RestartMax: 100 * time.Millisecond,
				OnFailure: func(err error) { failures <- err }, AbortOnFailure: abort})
			var killed int
			var walls map[int64]time.Time
			var pub *stream.Publisher
			published := make(chan struct{})
			go func() {
				defer close(published)
				pub, walls = publish(t, h.st, c, 2, nil)
			}()
			// Kill ffmpeg once it has produced some output.
			h.out.waitFor(t, "ladder output", 20*time.Second, func() bool {
				r := h.out.opens["240p30"]
				return len(r) == 1 && len(r[0].units) >= 30
			})
			st := h.p.Status()
			if st.State != StateRunning || st.PID == 0 {
				t.Fatalf("status while running %+v", st)
			}
			killed = st.PID
			if err := syscall.Kill(killed, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			h.out.waitFor(t, "restarted output", 20*time.Second, func() bool {
				r := h.out.opens["240p30"]
				return len(r) == 2 && r[0].closed && len(r[1].units) >= 15
			})
			select {
			case err := <-failures:
				if !strings.Contains(err.Error(), "SIGKILL") {
					t.Errorf("OnFailure got %v, want ffmpeg's SIGKILL", err)
				}
			default:
				t.Error("OnFailure was not called for the killed ffmpeg")
			}
			st = h.p.Status()
			if st.Restarts != 1 || !strings.Contains(st.LastError, "SIGKILL") || st.PID == killed {
				t.Errorf("status after the restart %+v", st)
			}
			<-published
			if pub == nil {
				t.FailNow()
			}
			pub.Close()
			h.out.waitFor(t, "every sink closed", 20*time.Second, func() bool {
				return h.out.allClosed("source", "audio", "240p30", "120p15")
			})
			sess := pub.Session()
			for _, name := range []string{"240p30", "120p15"} {
				recs := h.out.get(name)
				if len(recs) != 2 {
					t.Fatalf("%s opened %d times, want 2", name, len(recs))
				}
				if recs[0].aborted != abort || recs[1].aborted {
					t.Errorf("%s: the failed run's sink aborted=%v, the session end's aborted=%v; want %v, false", name, recs[0].aborted, recs[1].aborted, abort)
				}
				fps := 30.0
				if name == "120p15" {
					fps = 15
				}
				// After the restart, output resumes exactly on a segment boundary.
				resumed := recs[1].units[0].PTS
				if (resumed-sess.Mapping.Anchor)%testGrid.SegmentTicks() != 0 {
					t.Errorf("%s resumed at %d, not on a segment boundary", name, resumed)
				}
				if resumed <= recs[0].units[len(recs[0].units)-1].PTS {
					t.Errorf("%s resumed at %d, before the end of the first run", name, resumed)
				}
				checkLadderRecording(t, recs[1], sess.Mapping.Anchor, fps, walls, sess.Mapping.Offset, nil)
			}
			// The source never stopped.
			if n := len(h.out.get("source")); n != 1 {
				t.Errorf("source opened %d times, want 1", n)
			}
		})
	}
}

func TestPipelineMissingFFmpeg(t *testing.T) {
	c := makeClip(t, 1)
	h := startPipeline(t, Config{Passthrough: true, FFmpeg: "/nonexistent/ffmpeg"})
	pub, _ := mustPublish(t, h.st, c, 0, nil)
	h.out.waitFor(t, "source output", 10*time.Second, func() bool {
		r := h.out.opens["source"]
		return len(r) == 1 && len(r[0].units) == 30
	})
	st := h.p.Status()
	if st.State != StateFailed || !strings.Contains(st.LastError, "/nonexistent/ffmpeg") || !strings.Contains(st.LastError, "not found") {
		t.Errorf("status %+v, want failed with a clear error", st)
	}
	pub.Close()
	h.out.waitFor(t, "sinks closed", 10*time.Second, func() bool { return h.out.allClosed("source", "audio") })
	if len(h.out.get("240p30")) != 0 {
		t.Error("a ladder rendition was opened without ffmpeg")
	}
}

func TestNewPipelineValidates(t *testing.T) {
	st, err := stream.New(stream.Config{Grid: testGrid})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"bad grid", Config{Grid: media.Grid{Segment: time.Second, Part: 300 * time.Millisecond}}, "grid"},
		{"bad rendition", Config{Grid: testGrid, Ladder: []media.Rendition{{Name: "x", Height: 241, FPS: 30, Bitrate: 100000}}}, "ladder[0]"},
		{"duplicate", Config{Grid: testGrid, Ladder: []media.Rendition{testLadder()[0], testLadder()[0]}}, "duplicate"},
		{"threads", Config{Grid: testGrid, Threads: -1}, "threads"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPipeline("c", tt.cfg, st, newFakeOutput(), nil, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want mention of %q", err, tt.want)
			}
		})
	}
}
