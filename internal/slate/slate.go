package slate

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultText is the card's text when neither an image nor a text is set.
const DefaultText = "Please stand by"

// defaultFont is Debian's fonts-dejavu-core; without it drawtext falls
// back to fontconfig.
const defaultFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

// Options are shared by every rendition of a slate.
type Options struct {
	// FFmpeg is the ffmpeg binary; empty means "ffmpeg" from PATH.
	FFmpeg string
	// Image, when set, is a picture file scaled (aspect kept) and padded
	// to each rendition's size.
	Image string
	// Text is written on the card when Image is empty. Default DefaultText.
	Text string
	// Duration is the segment duration (at least 100 ms, at most 30 s).
	Duration time.Duration
}

// Video describes a video rendition.
type Video struct {
	Width, Height int
	FrameRate     float64 // frames per second; 0 means 30
}

// Audio describes an audio rendition.
type Audio struct {
	SampleRate int // Hz; 0 means 48000
	Channels   int // 0 means 2
}

// Track is one rendered rendition: an init segment and one media segment
// of Duration that Segment re-times.
type Track struct {
	// Init is the CMAF header (ftyp and moov).
	Init []byte
	// Timescale is the track's media timescale (ticks per second).
	Timescale uint32
	// Duration is the segment duration the track was rendered for.
	Duration time.Duration

	media   []byte // moof and mdat
	tfdtOff int    // offset of the 64-bit baseMediaDecodeTime in media
	seqOff  int    // offset of mfhd's sequence number in media
}

// Segment returns a copy of the media segment that starts at decode time
// n × Duration (in Timescale ticks, rounded) with fragment sequence number
// seq: slate segment n lines up with segment n of a channel whose segment
// n starts at n × Duration.
func (t *Track) Segment(n int64, seq uint32) []byte {
	out := bytes.Clone(t.media)
	start := uint64(math.Round(float64(n) * t.Duration.Seconds() * float64(t.Timescale)))
	binary.BigEndian.PutUint64(out[t.tfdtOff:], start)
	binary.BigEndian.PutUint32(out[t.seqOff:], seq)
	return out
}

// RenderVideo encodes the picture for v with libx264: one segment of
// Duration that starts with a keyframe.
func RenderVideo(ctx context.Context, opts Options, v Video) (*Track, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if v.Width <= 0 || v.Height <= 0 || v.Width > 8192 || v.Height > 8192 || v.Width%2 != 0 || v.Height%2 != 0 {
		return nil, fmt.Errorf("slate: video size %dx%d: want even sizes up to 8192", v.Width, v.Height)
	}
	fps := v.FrameRate
	if fps == 0 {
		fps = 30
	}
	if fps < 1 || fps > 120 {
		return nil, fmt.Errorf("slate: frame rate %g: want 1 to 120", fps)
	}
	frames := max(int(math.Round(opts.Duration.Seconds()*fps)), 1)
	rate := strconv.FormatFloat(fps, 'f', -1, 64)
	size := fmt.Sprintf("%dx%d", v.Width, v.Height)
	var args []string
	if opts.Image != "" {
		args = []string{"-loop", "1", "-framerate", rate, "-i", opts.Image,
			"-vf", fmt.Sprintf("scale=%d:%d:force_original_aspect_ratio=decrease,pad=%d:%d:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p",
				v.Width, v.Height, v.Width, v.Height)}
	} else {
		args = []string{"-f", "lavfi", "-i", "color=c=0x1c2430:s=" + size + ":r=" + rate,
			"-vf", drawText(opts.text(), v.Height) + ",format=yuv420p"}
	}
	gop := strconv.Itoa(frames)
	args = append(args, "-frames:v", gop, "-an",
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-profile:v", "main",
		"-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-bf", "0", "-crf", "28")
	return render(ctx, opts, args, "video")
}

// RenderAudio encodes AAC-LC silence for a: one segment of at least
// Duration.
func RenderAudio(ctx context.Context, opts Options, a Audio) (*Track, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	rate, channels := a.SampleRate, a.Channels
	if rate == 0 {
		rate = 48000
	}
	if channels == 0 {
		channels = 2
	}
	layout, ok := map[int]string{1: "mono", 2: "stereo", 6: "5.1", 8: "7.1"}[channels]
	if !ok || rate < 8000 || rate > 96000 {
		return nil, fmt.Errorf("slate: audio %d Hz, %d channels: want 8000 to 96000 Hz and 1, 2, 6 or 8 channels", rate, channels)
	}
	frames := int(math.Ceil(opts.Duration.Seconds() * float64(rate) / 1024))
	args := []string{"-f", "lavfi", "-i", fmt.Sprintf("anullsrc=r=%d:cl=%s", rate, layout),
		"-frames:a", strconv.Itoa(frames), "-vn", "-c:a", "aac", "-b:a", "48k"}
	return render(ctx, opts, args, "audio")
}

func (o *Options) check() error {
	if o.Duration < 100*time.Millisecond || o.Duration > 30*time.Second {
		return fmt.Errorf("slate: segment duration %v: want 100ms to 30s", o.Duration)
	}
	return nil
}

func (o *Options) text() string {
	if o.Text == "" {
		return DefaultText
	}
	return o.Text
}

// drawText centres text on the card. The text goes through a file so no
// filtergraph escaping is needed; the caller's temp dir is not needed
// either: textfile is read by ffmpeg at start.
func drawText(text string, height int) string {
	font := ""
	if _, err := os.Stat(defaultFont); err == nil {
		font = "fontfile=" + defaultFont + ":"
	}
	size := max(height/12, 10)
	return fmt.Sprintf("drawtext=%sfontsize=%d:fontcolor=white:x=(w-text_w)/2:y=(h-text_h)/2:text='%s'",
		font, size, escapeText(text))
}

// escapeText keeps letters, digits, spaces and simple punctuation: the
// text is operator configuration, but a filtergraph must never be
// injectable from it.
func escapeText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(" .!?-_()", r):
			b.WriteRune(r)
		}
		if b.Len() >= 80 {
			break
		}
	}
	return b.String()
}

// render runs ffmpeg with input and codec args into a one-fragment CMAF
// file and splits it.
func render(ctx context.Context, opts Options, args []string, kind string) (*Track, error) {
	dir, err := os.MkdirTemp("", "onair-slate-")
	if err != nil {
		return nil, fmt.Errorf("slate: %w", err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "slate.mp4")
	// One fragment: frag_duration longer than the segment, no keyframe
	// fragmentation.
	fragUS := strconv.FormatInt((opts.Duration + 10*time.Second).Microseconds(), 10)
	full := append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}, args...)
	full = append(full, "-map_metadata", "-1", "-f", "mp4",
		"-movflags", "+empty_moov+default_base_moof+cmaf+skip_trailer", "-frag_duration", fragUS, out)
	bin := opts.FFmpeg
	if bin == "" {
		bin = "ffmpeg"
	}
	cmd := exec.CommandContext(ctx, bin, full...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("slate: render %s with %s: %w: %s", kind, bin, err, strings.TrimSpace(string(msg)))
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("slate: %w", err)
	}
	t, err := split(data)
	if err != nil {
		return nil, fmt.Errorf("slate: ffmpeg's %s output: %w", kind, err)
	}
	t.Duration = opts.Duration
	return t, nil
}

// errLayout is returned for a file that is not one init plus one fragment.
var errLayout = errors.New("want ftyp, moov, one moof and one mdat")
