package slate

import (
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"onair/internal/media"
)

// probe runs ffprobe on init+segment and returns "codec WxH frames
// start_time duration" style facts.
func probe(t *testing.T, init, seg []byte, entries string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "s.mp4")
	if err := os.WriteFile(f, append(append([]byte(nil), init...), seg...), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries", entries,
		"-of", "default=nw=1:nk=1", f).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v: %s", err, out)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

func TestRenderVideo(t *testing.T) {
	ctx := context.Background()
	img := filepath.Join(t.TempDir(), "card.png")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x200", "-frames:v", "1", img).CombinedOutput(); err != nil {
		t.Fatalf("make image: %v: %s", err, out)
	}
	for _, tc := range []struct {
		name string
		opts Options
		v    Video
		want string
	}{
		{"card", Options{Duration: 2 * time.Second}, Video{Width: 640, Height: 360, FrameRate: 30}, "h264 640 360 60"},
		{"image", Options{Duration: time.Second, Image: img}, Video{Width: 256, Height: 144, FrameRate: 25}, "h264 256 144 25"},
		{"default rate", Options{Duration: 500 * time.Millisecond, Text: "Back soon; rm -rf / 'x'"}, Video{Width: 320, Height: 180}, "h264 320 180 15"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := RenderVideo(ctx, tc.opts, tc.v)
			if err != nil {
				t.Fatal(err)
			}
			got := probe(t, tr.Init, tr.Segment(0, 1), "stream=codec_name,width,height,nb_read_frames")
			if got != tc.want {
				t.Errorf("ffprobe: %q, want %q", got, tc.want)
			}
			// Segment 7 starts at 7 × D on the track's timescale.
			seg := tr.Segment(7, 8)
			start := probe(t, tr.Init, seg, "stream=start_time")
			want := 7 * tc.opts.Duration.Seconds()
			if f, _ := strconv.ParseFloat(start, 64); f < want-0.001 || f > want+0.001 {
				t.Errorf("segment 7 starts at %s s, want %.3f", start, want)
			}
			if got := binary.BigEndian.Uint32(seg[tr.seqOff:]); got != 8 {
				t.Errorf("sequence number %d, want 8", got)
			}
			if string(tr.Segment(0, 1)) == string(seg) {
				t.Error("Segment returned the same bytes for different numbers")
			}
		})
	}
}

func TestRenderAudio(t *testing.T) {
	for _, tc := range []struct {
		a    Audio
		want string
	}{
		{Audio{}, "aac 48000 2"},
		{Audio{SampleRate: 44100, Channels: 1}, "aac 44100 1"},
	} {
		tr, err := RenderAudio(context.Background(), Options{Duration: 2 * time.Second}, tc.a)
		if err != nil {
			t.Fatal(err)
		}
		if got := probe(t, tr.Init, tr.Segment(3, 4), "stream=codec_name,sample_rate,channels"); got != tc.want {
			t.Errorf("ffprobe: %q, want %q", got, tc.want)
		}
		rate := tc.a.SampleRate
		if rate == 0 {
			rate = 48000
		}
		if tr.Timescale != uint32(rate) {
			t.Errorf("timescale %d, want the sample rate %d", tr.Timescale, rate)
		}
		if ts, err := InitTimescale(tr.Init); err != nil || ts != tr.Timescale {
			t.Errorf("InitTimescale = %d, %v; want %d", ts, err, tr.Timescale)
		}
		// Segment 13 starts at 13 × D: no priming delay or edit list
		// shifts it (a player would see a hole at the switch).
		start := probe(t, tr.Init, tr.Segment(13, 14), "stream=start_time")
		if f, _ := strconv.ParseFloat(start, 64); f < 26-0.001 || f > 26+0.001 {
			t.Errorf("audio segment 13 starts at %s s, want 26.000", start)
		}
		d := probe(t, tr.Init, tr.Segment(0, 1), "stream=duration")
		if f, _ := strconv.ParseFloat(d, 64); f < 2 || f > 2+1024.0/float64(rate)+0.001 {
			t.Errorf("audio segment lasts %s s, want 2 s up to one AAC frame more", d)
		}
	}
}

func TestRenderRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	for name, err := range map[string]error{
		"odd size": func() error {
			_, err := RenderVideo(ctx, Options{Duration: time.Second}, Video{Width: 641, Height: 360})
			return err
		}(),
		"no duration": func() error { _, err := RenderVideo(ctx, Options{}, Video{Width: 640, Height: 360}); return err }(),
		"bad channels": func() error {
			_, err := RenderAudio(ctx, Options{Duration: time.Second}, Audio{Channels: 3})
			return err
		}(),
		"no ffmpeg": func() error {
			_, err := RenderAudio(ctx, Options{Duration: time.Second, FFmpeg: "/nonexistent/ffmpeg"}, Audio{})
			return err
		}(),
		"missing image": func() error {
			_, err := RenderVideo(ctx, Options{Duration: time.Second, Image: "/nonexistent.png"}, Video{Width: 64, Height: 64})
			return err
		}(),
	} {
		if err == nil || !strings.HasPrefix(err.Error(), "slate: ") {
			t.Errorf("%s: err = %v, want a slate: error", name, err)
		}
	}
}

func FuzzSplit(f *testing.F) {
	tr, err := RenderAudio(context.Background(), Options{Duration: 200 * time.Millisecond}, Audio{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(append(append([]byte(nil), tr.Init...), tr.Segment(0, 1)...))
	f.Add([]byte("\x00\x00\x00\x08moov"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := split(data)
		if err != nil {
			return
		}
		_ = tr.Segment(5, 6) // must not panic
		_, _ = InitTimescale(data)
	})
}

func TestNewLoop(t *testing.T) {
	video := &media.Track{Kind: media.KindVideo, Codec: media.CodecH264, Width: 320, Height: 240, FPS: 30}
	audio := &media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, SampleRate: 44100, Channels: 1}
	l, err := NewLoop(context.Background(), Options{Duration: 2 * time.Second}, video, audio)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Frames) != 60 || l.Period != 180000 || !l.Frames[0].Key || l.Frames[1].Key {
		t.Fatalf("loop: %d frames, period %d, first key %v", len(l.Frames), l.Period, l.Frames[0].Key)
	}
	if l.Frames[59].DTS != 59*3000 || l.Video.Width != 320 || l.Video.Height != 240 || len(l.Video.SPS) == 0 {
		t.Errorf("frame 59 DTS %d, track %+v", l.Frames[59].DTS, l.Video)
	}
	if l.Audio.SampleRate != 44100 || l.Audio.Channels != 1 || len(l.Audio.AudioConfig) < 2 || len(l.Silence) == 0 {
		t.Errorf("audio %+v, silence %d bytes", l.Audio, len(l.Silence))
	}
	// The frames decode: write them as Annex B and let ffprobe count them.
	var es []byte
	for _, u := range l.Frames {
		for _, n := range u.NALUs {
			es = append(append(es, 0, 0, 0, 1), n...)
		}
	}
	f := filepath.Join(t.TempDir(), "loop.h264")
	if err := os.WriteFile(f, es, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", f).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "60" {
		t.Errorf("ffprobe decoded %q frames (%v), want 60", out, err)
	}
}

func FuzzSplitAVCC(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0x65})
	f.Add([]byte{0, 0, 0, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		nalus, err := splitAVCC(b)
		if err != nil {
			return
		}
		n := 0
		for _, x := range nalus {
			n += 4 + len(x)
		}
		if n != len(b) {
			t.Fatalf("split covers %d of %d bytes", n, len(b))
		}
	})
}
