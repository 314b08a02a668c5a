package detect

import (
	"context"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/media"
)

// The transitions clip: testsrc2 and a sine, with the picture black
// (drawbox) and the audio muted from 3 s to 6 s, and the picture frozen
// on frame 240 (8 s) up to frame 329 (10.967 s). Keyframes every second.
// Black frames are also frozen ones: ffmpeg's freezedetect reports the
// black stretch as frozen too.
var transitionsClip = clipSpec{
	video: "testsrc2=size=320x240:rate=30,drawbox=enable='between(t,3,6)':c=black:t=fill," +
		"split[a][b];[a][b]freezeframes=first=240:last=329:replace=240[v]",
	audio:   "sine=frequency=440:sample_rate=48000,volume=enable='between(t,3,6)':volume=0",
	seconds: 13, gop: 30, bframes: 2,
}

// The healthy clip: testsrc2 (always moving, colourful) and a sine.
var healthyClip = clipSpec{
	video:   "testsrc2=size=320x240:rate=30[v]",
	audio:   "sine=frequency=440:sample_rate=48000",
	seconds: 5, gop: 30, bframes: 2,
}

const frame = media.Timescale / 30

// harness runs a Detector for a test.
type harness struct {
	d    *Detector
	rec  *recorder
	reg  *prometheus.Registry
	base time.Time // wall time given to the clip's first unit
	done chan struct{}
}

func startDetector(t *testing.T, cfg Config) *harness {
	t.Helper()
	needFFmpeg(t)
	h := &harness{rec: newRecorder(), reg: prometheus.NewRegistry(), base: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC), done: make(chan struct{})}
	if cfg.Labels == nil {
		cfg.Labels = prometheus.Labels{"input": "primary"}
	}
	var err error
	h.d, err = New(cfg, Deps{OnChange: h.rec.onChange, Registerer: h.reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(h.done)
		if err := h.d.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10 s of cancel")
		}
	})
	return h
}

// feed writes the clip's units, shifted by shift ticks, with wall times
// paced like a live source starting at h.base.
func (h *harness) feed(c clip, shift int64) {
	first := c.units[0].DTS
	for _, u := range c.units {
		u.PTS += shift
		u.DTS += shift
		u.Wall = h.base.Add(time.Duration((u.DTS - first) * int64(time.Second) / media.Timescale))
		h.d.Write(u)
	}
}

func (h *harness) gauge(t *testing.T, condition string) float64 {
	return metricValue(t, h.reg, "onair_input_content_state", map[string]string{"input": "primary", "condition": condition})
}

// firstKeyPTS returns the PTS of the clip's first frame (content time 0).
func firstKeyPTS(c clip) int64 {
	for _, u := range c.units {
		if u.Kind == media.KindVideo && u.Key {
			return u.PTS
		}
	}
	return 0
}

func TestTransitions(t *testing.T) {
	hevcClip := transitionsClip
	hevcClip.hevc = true
	clips := map[bool]clip{false: makeClip(t, transitionsClip), true: makeClip(t, hevcClip)}
	tests := []struct {
		name   string
		sample Sample
		hevc   bool
		// late is how much after the exact frame a change may be seen:
		// a GOP when only keyframes are decoded.
		late int64
	}{
		{"h264 keyframes", SampleKeyframes, false, media.Timescale + frame},
		{"h264 all", SampleAll, false, 2 * frame},
		{"h265 keyframes", SampleKeyframes, true, media.Timescale + frame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clips[tt.hevc]
			origin := firstKeyPTS(c)
			at := func(sec float64) int64 { return origin + int64(sec*media.Timescale) }
			h := startDetector(t, Config{Black: 2 * time.Second, Frozen: 2 * time.Second, Silent: 2 * time.Second,
				Sample: tt.sample, Queue: 100000})
			h.d.Start(c.video, c.audio)
			h.feed(c, 0)
			final := h.rec.wait(t, 20*time.Second, "healthy after the freeze", func(s State) bool {
				return s.Healthy && s.At.PTS >= at(11)
			})
			states := h.rec.all()
			t.Logf("states: %s", describe(states))
			within := func(what string, got, from, to int64) {
				t.Helper()
				if got < from || got > to {
					t.Errorf("%s at %.3fs, want within [%.3fs, %.3fs]", what, secs(got-origin), secs(from-origin), secs(to-origin))
				}
			}
			find := func(after int, cond func(State) bool) (int, State) {
				for i := after; i < len(states); i++ {
					if cond(states[i]) {
						return i, states[i]
					}
				}
				t.Fatalf("no such state after #%d: %s", after, describe(states))
				return 0, State{}
			}
			if !states[0].Known || !states[0].Healthy {
				t.Errorf("first state %v, want healthy", states[0])
			}

			// Black from 3 s (the last black frame is at 6 s).
			i, s := find(0, func(s State) bool { return s.Black })
			within("black reported", s.At.PTS, at(5), at(5)+tt.late)
			within("black since", s.BlackSince.PTS, at(3), at(3)+tt.late)
			// Since.Wall is when the frame at Since.PTS reached ingest.
			for _, u := range c.units {
				if u.Kind == media.KindVideo && u.PTS == s.BlackSince.PTS {
					want := h.base.Add(time.Duration((u.DTS - c.units[0].DTS) * int64(time.Second) / media.Timescale))
					if d := s.BlackSince.Wall.Sub(want); d < -70*time.Millisecond || d > 70*time.Millisecond { // placed from 100 ms samples
						t.Errorf("black since wall %v, want %v", s.BlackSince.Wall, want)
					}
				}
			}
			j, s := find(i, func(s State) bool { return !s.Black })
			within("black cleared", s.At.PTS, at(6)+frame, at(6)+tt.late+frame)

			// Silence from 3 s to 6 s; At is the video's progress, which
			// trails the audio by up to a GOP with keyframes only.
			k, s := find(0, func(s State) bool { return s.Silent })
			within("silent since", s.SilentSince.PTS, at(3)-frame, at(3)+frame)
			within("silent reported", s.At.PTS, at(5)-tt.late-frame, at(5)+tt.late)
			_, s = find(k, func(s State) bool { return !s.Silent })
			within("silence cleared", s.At.PTS, at(6)-tt.late-frame, at(6)+tt.late+frame)

			// Frozen on 8 s to 10.967 s.
			_, s = find(j, func(s State) bool { return s.Frozen })
			within("frozen reported", s.At.PTS, at(10), at(10)+tt.late)
			within("frozen since", s.FrozenSince.PTS, at(8), at(8)+tt.late)
			if !final.Known || final.Black || final.Frozen || final.Silent {
				t.Errorf("final state %v", final)
			}
			for _, c := range []string{"black", "frozen", "silent", "unknown"} {
				if v := h.gauge(t, c); v != 0 {
					t.Errorf("gauge %s = %v after the clip, want 0", c, v)
				}
			}
			if h.d.Dropped() != 0 {
				t.Errorf("%d units dropped", h.d.Dropped())
			}
		})
	}
}

func TestHealthySourceNeverAlarms(t *testing.T) {
	c := makeClip(t, healthyClip)
	last := c.units[len(c.units)-1].PTS
	tests := []struct {
		name string
		cfg  Config
	}{
		{"keyframes", Config{Black: time.Second, Frozen: time.Second, Silent: time.Second, Sample: SampleKeyframes}},
		{"all", Config{Black: time.Second, Frozen: time.Second, Silent: time.Second, Sample: SampleAll}},
		{"audio only", Config{Silent: time.Second}},
		{"video only", Config{Black: time.Second, Frozen: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Queue = 100000
			h := startDetector(t, tt.cfg)
			h.d.Start(c.video, c.audio)
			h.feed(c, 0)
			h.rec.wait(t, 10*time.Second, "healthy state", func(s State) bool { return s.Healthy })
			// Wait until the whole clip went through (At is only in State).
			deadline := time.Now().Add(10 * time.Second)
			for h.d.State().At.PTS < last-media.Timescale {
				if time.Now().After(deadline) {
					t.Fatalf("clip not decoded in 10 s: %v", h.d.State())
				}
				time.Sleep(10 * time.Millisecond) // State has no change signal for progress
			}
			for _, s := range h.rec.all() {
				if s.Black || s.Frozen || s.Silent || !s.Healthy {
					t.Errorf("reported %v for a healthy source", s)
				}
			}
			if h.gauge(t, "unknown") != 0 || h.gauge(t, "black") != 0 {
				t.Error("gauges do not show a known, healthy input")
			}
			h.d.End()
			h.rec.wait(t, 5*time.Second, "unknown after End", func(s State) bool { return !s.Known })
			if h.gauge(t, "unknown") != 1 {
				t.Error("unknown gauge not set after End")
			}
			if pid := h.d.ffmpegPID(); pid != 0 {
				t.Errorf("ffmpeg %d still running after End", pid)
			}
		})
	}
}

func TestFFmpegDeathIsUnknownThenRecovers(t *testing.T) {
	c := makeClip(t, healthyClip)
	h := startDetector(t, Config{Black: time.Second, Silent: time.Second, Sample: SampleAll, Queue: 100000,
		RestartMin: 10 * time.Millisecond, RestartMax: 50 * time.Millisecond})
	h.d.Start(c.video, c.audio)
	h.feed(c, 0)
	h.rec.wait(t, 10*time.Second, "healthy", func(s State) bool { return s.Healthy })
	pid := h.d.ffmpegPID()
	if pid == 0 {
		t.Fatal("no ffmpeg")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	n := len(h.rec.all())
	h.rec.wait(t, 5*time.Second, "unknown after the kill", func(s State) bool { return !s.Known })
	for _, s := range h.rec.all()[n:] {
		if s.Known {
			t.Errorf("reported %v between the kill and the unknown state", s)
		}
	}
	// The source goes on (timestamps continue); the restarted ffmpeg
	// picks it up at a keyframe.
	shift := c.units[len(c.units)-1].DTS - c.units[0].DTS + frame
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for k := int64(1); ; k++ {
			first := c.units[0].DTS
			for _, u := range c.units {
				u.PTS += k * shift
				u.DTS += k * shift
				u.Wall = h.base.Add(time.Duration((u.DTS - first) * int64(time.Second) / media.Timescale))
				h.d.Write(u)
				if u.Kind == media.KindVideo {
					select {
					case <-stop:
						return
					case <-time.After(2 * time.Millisecond): // about 15x real time
					}
				}
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()
	s := h.rec.wait(t, 10*time.Second, "healthy again", func(s State) bool { return s.Healthy && s.At.PTS > c.units[len(c.units)-1].PTS })
	if p := h.d.ffmpegPID(); p == pid || p == 0 {
		t.Errorf("ffmpeg pid %d after restart (killed %d)", p, pid)
	}
	if got := metricValue(t, h.reg, "onair_input_content_restarts_total", map[string]string{"input": "primary"}); got != 1 {
		t.Errorf("restarts = %v, want 1", got)
	}
	t.Logf("recovered: %v", s)
}

func TestTimestampJumpRestartsRun(t *testing.T) {
	c := makeClip(t, healthyClip)
	h := startDetector(t, Config{Silent: time.Second, Black: time.Second, Sample: SampleKeyframes, Queue: 100000})
	h.d.Start(c.video, c.audio)
	h.feed(c, 0)
	h.rec.wait(t, 10*time.Second, "healthy", func(s State) bool { return s.Healthy })
	n := len(h.rec.all())
	h.feed(c, -10*media.Timescale) // the same clip again, 10 s earlier: a step back
	s := h.rec.wait(t, 10*time.Second, "healthy on the new timeline", func(s State) bool {
		return s.Healthy && s.At.PTS < c.units[0].PTS
	})
	if len(h.rec.all()) <= n {
		t.Error("no state change across the jump")
	}
	if got := metricValue(t, h.reg, "onair_input_content_restarts_total", map[string]string{"input": "primary"}); got != 0 {
		t.Errorf("a timestamp jump counted as %v ffmpeg failures", got)
	}
	t.Logf("after the jump: %v", s)
}

func TestGarbageInputIsNeverKnown(t *testing.T) {
	h := startDetector(t, Config{Black: time.Second, Frozen: time.Second, Silent: time.Second, Sample: SampleAll,
		RestartMin: 10 * time.Millisecond, RestartMax: 50 * time.Millisecond})
	rng := rand.New(rand.NewPCG(1, 2))
	junk := func(n int) []byte {
		b := make([]byte, rng.IntN(n))
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	tracks := []struct{ video, audio *media.Track }{
		{&media.Track{Kind: media.KindVideo, Codec: media.CodecH264, SPS: junk(40), PPS: junk(10)}, &media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, AudioConfig: []byte{0x11, 0x90}}},
		{&media.Track{Kind: media.KindVideo, Codec: media.CodecH265}, &media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, AudioConfig: junk(4)}},
		{&media.Track{Kind: media.KindVideo, Codec: "vp9"}, nil},
		{nil, &media.Track{Kind: media.KindAudio, Codec: media.CodecAAC}},
		{&media.Track{Kind: media.KindVideo, Codec: media.CodecH264}, nil},
	}
	for _, tr := range tracks {
		h.d.Start(tr.video, tr.audio)
		pts := int64(rng.IntN(1 << 33))
		for i := range 200 {
			pts += int64(rng.IntN(6000)) - 500 // sometimes backwards
			u := media.Unit{Kind: media.Kind(rng.IntN(4)), PTS: pts, DTS: pts - int64(rng.IntN(3))*frame, Key: i%7 == 0}
			switch rng.IntN(4) {
			case 0:
				u.NALUs = [][]byte{junk(2000), nil, {}, junk(50)}
			case 1:
				u.Audio = junk(9000)
			case 2:
				u.NALUs = [][]byte{{0x65}, junk(300)}
			}
			h.d.Write(u)
		}
	}
	h.d.End()
	h.d.Start(&media.Track{Kind: media.KindVideo, Codec: media.CodecH264}, nil)
	h.d.Write(media.Unit{Kind: media.KindVideo, Key: true}) // an empty keyframe
	// Give ffmpeg time to choke on it all; nothing may look known.
	time.Sleep(1500 * time.Millisecond) // asserting an absence: a bounded wait is all there is
	for _, s := range h.rec.all() {
		if s.Known {
			t.Errorf("garbage reported as %v", s)
		}
	}
	if s := h.d.State(); s.Known || s.Healthy || s.Black {
		t.Errorf("state %v", s)
	}
}

func TestMissingFFmpegIsUnknownAndRetried(t *testing.T) {
	c := makeClip(t, healthyClip)
	h := startDetector(t, Config{Black: time.Second, FFmpeg: "/nonexistent/ffmpeg", Queue: 100000,
		RestartMin: 5 * time.Millisecond, RestartMax: 10 * time.Millisecond})
	h.d.Start(c.video, c.audio)
	deadline := time.Now().Add(5 * time.Second)
	for metricValue(t, h.reg, "onair_input_content_restarts_total", map[string]string{"input": "primary"}) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no retries of a missing ffmpeg in 5 s")
		}
		h.feed(c, 0) // keyframes to start on; backoff discards the rest
		time.Sleep(20 * time.Millisecond)
	}
	if s := h.d.State(); s.Known {
		t.Errorf("state %v without ffmpeg", s)
	}
	if h.gauge(t, "unknown") != 1 {
		t.Error("unknown gauge not set")
	}
}
