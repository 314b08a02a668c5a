package detect

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	mcodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"onair/internal/media"
)

// clip is a parsed test clip: tracks and units with source timestamps in
// decode order, as ingest would produce them from an MPEG-TS.
type clip struct {
	video, audio *media.Track
	units        []media.Unit
}

func needFFmpeg(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is required (scripts/setup.sh installs it): ", err)
	}
}

// clipSpec describes a lavfi test clip.
type clipSpec struct {
	video   string // lavfi video graph (input of -filter_complex), output [v]
	audio   string // lavfi audio source (sine ...), "" for none
	seconds float64
	gop     int
	bframes int
	hevc    bool
	size    string   // WxH for the encoder's scale, "" for the source's
	extra   []string // more encoder options, e.g. a bitrate
}

// makeClip encodes spec to an MPEG-TS in a temporary directory and
// parses it into units.
func makeClip(t testing.TB, spec clipSpec) clip {
	t.Helper()
	needFFmpeg(t)
	path := filepath.Join(t.TempDir(), "clip.ts")
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error",
		"-filter_complex", spec.video}
	if spec.audio != "" {
		args = append(args, "-f", "lavfi", "-i", spec.audio)
	}
	args = append(args, "-map", "[v]")
	if spec.audio != "" {
		args = append(args, "-map", "0:a")
	}
	args = append(args, "-t", fmt.Sprint(spec.seconds))
	if spec.hevc {
		args = append(args, "-c:v", "libx265", "-preset", "ultrafast",
			"-x265-params", fmt.Sprintf("keyint=%d:min-keyint=%d:bframes=%d:log-level=error", spec.gop, spec.gop, spec.bframes))
	} else {
		args = append(args, "-c:v", "libx264", "-preset", "veryfast", "-g", fmt.Sprint(spec.gop), "-bf", fmt.Sprint(spec.bframes))
	}
	args = append(args, spec.extra...)
	args = append(args, "-pix_fmt", "yuv420p")
	if spec.audio != "" {
		args = append(args, "-c:a", "aac", "-b:a", "64k")
	}
	args = append(args, "-f", "mpegts", path)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %q: %v\n%s", args, err, out)
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
	onVideo := func(hevc bool) func(pts, dts int64, au [][]byte) error {
		return func(pts, dts int64, au [][]byte) error {
			key := h264.IsRandomAccess(au)
			if hevc {
				key = h265.IsRandomAccess(au)
			}
			if key && c.video == nil {
				tk, err := trackFromKeyframe(au, hevc)
				if err != nil {
					return err
				}
				c.video = &tk
			}
			c.units = append(c.units, media.Unit{Kind: media.KindVideo, PTS: pts, DTS: dts, Key: key, NALUs: au})
			return nil
		}
	}
	for _, tk := range tr.Tracks() {
		switch codec := tk.Codec.(type) {
		case *mcodecs.H264:
			tr.OnDataH264(tk, onVideo(false))
		case *mcodecs.H265:
			tr.OnDataH265(tk, onVideo(true))
		case *mcodecs.MPEG4Audio:
			conf := codec.Config
			enc, err := conf.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			c.audio = &media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, SampleRate: conf.SampleRate, Channels: int(conf.ChannelConfig), AudioConfig: enc}
			tr.OnDataMPEG4Audio(tk, func(pts int64, aus [][]byte) error {
				for i, au := range aus {
					ts := pts + int64(i)*1024*media.Timescale/int64(conf.SampleRate)
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
	if c.video == nil || len(c.units) == 0 {
		t.Fatal("clip lacks video")
	}
	// Interleave as a live source would deliver them: in DTS order.
	slices.SortStableFunc(c.units, func(a, b media.Unit) int { return cmp.Compare(a.DTS, b.DTS) })
	return c
}

// trackFromKeyframe builds a video Track from the parameter sets of a
// keyframe access unit.
func trackFromKeyframe(au [][]byte, hevc bool) (media.Track, error) {
	t := media.Track{Kind: media.KindVideo, Codec: media.CodecH264, FPS: 30}
	if hevc {
		t.Codec = media.CodecH265
	}
	for _, n := range au {
		switch typ := naluType(n, hevc); {
		case hevc && typ == h265VPS:
			t.VPS = n
		case hevc && typ == h265SPS, !hevc && typ == h264SPS:
			t.SPS = n
		case hevc && typ == h265PPS, !hevc && typ == h264PPS:
			t.PPS = n
		}
	}
	if t.SPS == nil || t.PPS == nil {
		return t, errors.New("keyframe without parameter sets")
	}
	if hevc {
		var sps h265.SPS
		if err := sps.Unmarshal(t.SPS); err != nil {
			return t, err
		}
		t.Width, t.Height = sps.Width(), sps.Height()
	} else {
		var sps h264.SPS
		if err := sps.Unmarshal(t.SPS); err != nil {
			return t, err
		}
		t.Width, t.Height = sps.Width(), sps.Height()
	}
	return t, nil
}

// recorder collects the states a Detector reports through OnChange.
type recorder struct {
	mu      sync.Mutex
	states  []State
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) onChange(s State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, s)
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *recorder) all() []State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]State(nil), r.states...)
}

// wait blocks until a reported state satisfies cond, or fails the test
// after d.
func (r *recorder) wait(t testing.TB, d time.Duration, what string, cond func(State) bool) State {
	t.Helper()
	deadline := time.After(d)
	for {
		r.mu.Lock()
		ch := r.changed
		for _, s := range r.states {
			if cond(s) {
				r.mu.Unlock()
				return s
			}
		}
		r.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("after %v: %s not reported; states: %s", d, what, describe(r.all()))
			return State{}
		}
	}
}

func describe(states []State) string {
	out := ""
	for _, s := range states {
		out += "\n  " + s.String()
	}
	return out
}

// secs converts channel ticks to seconds for messages.
func secs(pts int64) float64 { return float64(pts) / media.Timescale }
