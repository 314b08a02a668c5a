package transcode

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	mcodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"
	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/media"
	"onair/internal/stream"
)

// clip is a parsed test clip: units with source timestamps.
type clip struct {
	video, audio *media.Track
	units        []media.Unit // decode order, video and audio interleaved
}

func needFFmpeg(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is required (scripts/setup.sh installs it): ", err)
	}
}

// makeClip encodes a 320x240@30 H.264 + AAC clip of secs seconds with a
// GOP of 25 frames (so source keyframes are NOT on a 1 s grid) and
// B-frames (PTS != DTS), and parses it into units.
func makeClip(t testing.TB, secs int) clip {
	t.Helper()
	return makeClipCodec(t, secs, media.CodecH264)
}

func makeClipCodec(t testing.TB, secs int, codec media.Codec) clip {
	t.Helper()
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "clip.ts")
	enc := []string{"-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-bf", "2"}
	if codec == media.CodecH265 {
		enc = []string{"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "keyint=25:min-keyint=25:scenecut=0:bframes=2:log-level=error"}
	}
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.Itoa(secs)}
	args = append(args, enc...)
	args = append(args, "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-f", "mpegts", path)
	cmd := exec.Command("ffmpeg", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return parseClip(t, f)
}

func parseClip(t testing.TB, r io.Reader) clip {
	t.Helper()
	tr := &mpegts.Reader{R: bufio.NewReader(r)}
	if err := tr.Initialize(); err != nil {
		t.Fatal(err)
	}
	var c clip
	for _, tk := range tr.Tracks() {
		switch codec := tk.Codec.(type) {
		case *mcodecs.H264:
			tr.OnDataH264(tk, func(pts, dts int64, au [][]byte) error {
				key := h264.IsRandomAccess(au)
				if key && c.video == nil {
					tk, err := trackFromKeyframe(au, false, 30)
					if err != nil {
						return err
					}
					c.video = &tk
				}
				c.units = append(c.units, media.Unit{Kind: media.KindVideo, PTS: pts, DTS: dts, Key: key, NALUs: au})
				return nil
			})
		case *mcodecs.H265:
			tr.OnDataH265(tk, func(pts, dts int64, au [][]byte) error {
				key := h265.IsRandomAccess(au)
				if key && c.video == nil {
					tk, err := trackFromKeyframe(au, true, 30)
					if err != nil {
						return err
					}
					c.video = &tk
				}
				c.units = append(c.units, media.Unit{Kind: media.KindVideo, PTS: pts, DTS: dts, Key: key, NALUs: au})
				return nil
			})
		case *mcodecs.MPEG4Audio:
			cfg := codec.Config
			enc, err := cfg.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			c.audio = &media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, SampleRate: cfg.SampleRate, Channels: cfg.ChannelCount, AudioConfig: enc}
			tr.OnDataMPEG4Audio(tk, func(pts int64, aus [][]byte) error {
				for i, au := range aus {
					ts := pts + int64(i)*1024*media.Timescale/int64(cfg.SampleRate)
					c.units = append(c.units, media.Unit{Kind: media.KindAudio, PTS: ts, DTS: ts, Key: true, Audio: au})
				}
				return nil
			})
		}
	}
	for {
		if err := tr.Read(); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatal(err)
		}
	}
	if c.video == nil || c.audio == nil || len(c.units) == 0 {
		t.Fatal("clip lacks video or audio")
	}
	return c
}

// recording is one Open of one rendition.
type recording struct {
	r       Rendition
	units   []media.Unit
	arrived []time.Time
	closed  bool
	aborted bool // closed through Abort
}

// fakeOutput records everything the pipeline hands it.
type fakeOutput struct {
	mu    sync.Mutex
	opens map[string][]*recording
	fail  map[string]bool // renditions whose Open fails
}

func newFakeOutput() *fakeOutput {
	return &fakeOutput{opens: map[string][]*recording{}, fail: map[string]bool{}}
}

func (o *fakeOutput) Open(channel string, r Rendition) (Sink, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail[r.Name] {
		return nil, errors.New("refused")
	}
	rec := &recording{r: r}
	o.opens[r.Name] = append(o.opens[r.Name], rec)
	return &fakeSink{o: o, rec: rec}, nil
}

// get returns a copy of the recordings of a rendition.
func (o *fakeOutput) get(name string) []recording {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []recording
	for _, r := range o.opens[name] {
		c := *r
		c.units = slices.Clone(r.units)
		out = append(out, c)
	}
	return out
}

// waitFor polls cond (under the output's lock) until it holds.
func (o *fakeOutput) waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		o.mu.Lock()
		ok := cond()
		o.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// allClosed reports (under lock) whether names were opened and all closed.
func (o *fakeOutput) allClosed(names ...string) bool {
	for _, n := range names {
		if len(o.opens[n]) == 0 {
			return false
		}
		for _, r := range o.opens[n] {
			if !r.closed {
				return false
			}
		}
	}
	return true
}

type fakeSink struct {
	o   *fakeOutput
	rec *recording
}

func (s *fakeSink) Write(u media.Unit) error {
	s.o.mu.Lock()
	defer s.o.mu.Unlock()
	if s.rec.closed {
		return errors.New("write after close")
	}
	s.rec.units = append(s.rec.units, u)
	s.rec.arrived = append(s.rec.arrived, time.Now())
	return nil
}

func (s *fakeSink) Close() error {
	s.o.mu.Lock()
	defer s.o.mu.Unlock()
	s.rec.closed = true
	return nil
}

// Abort implements Aborter.
func (s *fakeSink) Abort() error {
	s.o.mu.Lock()
	defer s.o.mu.Unlock()
	s.rec.closed, s.rec.aborted = true, true
	return nil
}

var testGrid = media.Grid{Segment: time.Second, Part: 250 * time.Millisecond}

// testLadder is a two-step ladder that is cheap on two shared cores.
func testLadder() []media.Rendition {
	return []media.Rendition{
		{Name: "240p30", Height: 240, FPS: 30, Bitrate: 300_000, Preset: "ultrafast"},
		{Name: "120p15", Height: 120, FPS: 15, Bitrate: 100_000, Preset: "ultrafast"},
	}
}

// harness runs a pipeline on a fresh stream.
type harness struct {
	st   *stream.Stream
	p    *Pipeline
	out  *fakeOutput
	done chan error
	stop context.CancelFunc
}

func startPipeline(t *testing.T, cfg Config) *harness {
	t.Helper()
	return startPipelineLog(t, cfg, testLogger(t), nil)
}

func startPipelineLog(t *testing.T, cfg Config, log *slog.Logger, reg prometheus.Registerer) *harness {
	t.Helper()
	st, err := stream.New(stream.Config{Grid: testGrid, ReaderQueue: 8192})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Ladder == nil {
		cfg.Ladder = testLadder()
	}
	cfg.Grid = testGrid
	if cfg.QueueFrames == 0 {
		cfg.QueueFrames = 4096
	}
	out := newFakeOutput()
	p, err := NewPipeline("test", cfg, st, out, log, reg)
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	p.readerHook = func() { close(ready) }
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{st: st, p: p, out: out, done: make(chan error, 1), stop: cancel}
	go func() { h.done <- p.Run(ctx) }()
	<-ready
	t.Cleanup(func() { h.shutdown(t) })
	return h
}

// shutdown cancels Run and checks it returns nil promptly.
func (h *harness) shutdown(t *testing.T) {
	t.Helper()
	h.stop()
	select {
	case err := <-h.done:
		if err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
		h.done <- err // keep it for a second shutdown call
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of cancel")
	}
}

// publish writes the clip's units. speed > 0 paces them at that multiple
// of real time (by DTS); 0 writes as fast as possible. skip, if set,
// drops units. It returns the publisher (still open; nil after a reported
// error) and the ingest wall time of every written video unit by source
// PTS. It reports errors with t.Errorf, so it may run in a goroutine.
func publish(t *testing.T, st *stream.Stream, c clip, speed float64, skip func(i int, u media.Unit) bool) (*stream.Publisher, map[int64]time.Time) {
	t.Helper()
	pub, err := st.Publish("test clip", c.video, c.audio)
	if err != nil {
		t.Errorf("publish: %v", err)
		return nil, nil
	}
	walls := map[int64]time.Time{}
	start := time.Now()
	first := c.units[0].DTS
	for i, u := range c.units {
		if skip != nil && skip(i, u) {
			continue
		}
		if speed > 0 {
			due := start.Add(time.Duration(float64(media.Duration(u.DTS-first)) / speed))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		u.Wall = time.Now()
		if u.Kind == media.KindVideo {
			walls[u.PTS] = u.Wall
		}
		if err := pub.Write(u); err != nil {
			t.Errorf("write unit %d: %v", i, err)
			break
		}
	}
	return pub, walls
}

// mustPublish is publish for the test goroutine: it stops the test on
// error.
func mustPublish(t *testing.T, st *stream.Stream, c clip, speed float64, skip func(i int, u media.Unit) bool) (*stream.Publisher, map[int64]time.Time) {
	t.Helper()
	pub, walls := publish(t, st, c, speed, skip)
	if pub == nil || t.Failed() {
		t.FailNow()
	}
	return pub, walls
}
