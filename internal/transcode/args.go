package transcode

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"onair/internal/media"
)

// Args is everything one ffmpeg invocation depends on. BuildArgs turns it
// into an argv; the pipeline fills it per encoder run.
type Args struct {
	// Source is the input video track (Codec, FPS).
	Source media.Track
	// Renditions are the ladder steps to encode, already fitted to the
	// source (media.Fit). Rendition i is written to file descriptor 3+i.
	Renditions []media.Rendition
	// Segment is the segment duration D; keyframes are forced where the
	// input timeline crosses a multiple of D.
	Segment time.Duration
	// FirstPTS is the timestamp (90 kHz, on the timeline Go writes to
	// ffmpeg) of the first frame ffmpeg will read. Segment boundaries are
	// at multiples of Segment on that timeline.
	FirstPTS int64
	// StartPTS, when positive, is where output starts on the fed timeline
	// (a segment boundary): earlier frames are dropped, and when the first
	// frame comes later (a source with B-frames starts with a delay) it is
	// repeated back to StartPTS. So every run starts exactly on the grid: a
	// session at its anchor, a restarted encoder at the next boundary.
	StartPTS int64
	// LowLatency adds -tune zerolatency; otherwise lookahead is 10 frames.
	LowLatency bool
	// Threads per encoder (and for the decoder); 0 = ffmpeg's default.
	Threads int
	// Input is the input URL, default "pipe:0". It is MPEG-TS.
	Input string
}

// BuildArgs returns ffmpeg's arguments (without the program name) for a.
// It is a pure function of a.
func BuildArgs(a Args) []string {
	in := a.Input
	if in == "" {
		in = "pipe:0"
	}
	args := []string{
		"-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning",
		// Keep input timestamps on the outputs. The channel clock is
		// restored from them.
		"-copyts",
		// Start decoding as soon as the first keyframe is in. (-fflags
		// nobuffer is deliberately absent: with ffmpeg 5.1 it shifts or
		// loses output.)
		"-probesize", "32768", "-analyzeduration", "0",
	}
	if a.Threads > 0 {
		args = append(args, "-threads", strconv.Itoa(a.Threads))
	}
	if a.LowLatency {
		// The H.264/H.265 decoder's frame threads hold 2-3 frames;
		// slice threading holds none (single-slice sources then decode
		// on one thread, which is cheap next to encoding).
		args = append(args, "-thread_type", "slice")
	}
	args = append(args, "-f", "mpegts", "-i", in)
	for i, r := range a.Renditions {
		args = append(args, renditionArgs(a, r)...)
		args = append(args,
			"-fps_mode", "passthrough", // the fps filter already made the rate constant
			"-f", "mpegts", "-muxdelay", "0", "-muxpreload", "0", "-flush_packets", "1",
			fmt.Sprintf("pipe:%d", 3+i))
	}
	return args
}

func renditionArgs(a Args, r media.Rendition) []string {
	num, den := frameRate(r, a.Source)
	d := a.Segment.Seconds()
	gop := int(math.Ceil(float64(num)/float64(den)*d - 1e-9))
	first := firstSlot(a, num, den)
	// Where the first encoded frame sits after its segment boundary, plus
	// half a frame so that float rounding never moves a keyframe.
	dt := int64(a.Segment) * media.Timescale / int64(time.Second)
	phase := float64(slotTicks(first, num, den)%dt)/media.Timescale + 0.5*float64(den)/float64(num)
	k := strconv.FormatFloat(phase, 'f', 6, 64)
	ds := strconv.FormatFloat(d, 'f', -1, 64)
	// t counts from the first encoded frame: force a keyframe on the
	// first frame and whenever (t + phase) enters a new segment. Robust
	// to timestamp jumps: a jump of several segments forces one keyframe.
	expr := fmt.Sprintf("expr:isnan(prev_forced_t)+gte(floor((t+%s)/%s)-floor((prev_forced_t+%s)/%s),1)", k, ds, k, ds)

	filter := "fps=" + rateString(num, den)
	if a.StartPTS > 0 {
		filter += ":start_time=" + strconv.FormatFloat(float64(a.StartPTS)/media.Timescale, 'f', 6, 64)
	}
	w := strconv.Itoa(r.Width)
	if r.Width <= 0 {
		w = "-2"
	}
	filter += fmt.Sprintf(",scale=%s:%d,format=yuv420p", w, r.Height)

	args := []string{"-map", "0:v:0", "-an", "-sn", "-dn", "-filter:v", filter}
	switch r.Codec {
	case media.CodecH265:
		args = append(args, "-c:v", "libx265", "-preset", orDefault(r.Preset, "veryfast"))
		if p := r.Profile; len(p) >= 4 && p[:4] == "main" {
			args = append(args, "-profile:v", p)
		}
	default:
		args = append(args, "-c:v", "libx264", "-preset", orDefault(r.Preset, "veryfast"),
			"-profile:v", orDefault(r.Profile, "high"))
	}
	args = append(args,
		"-b:v", strconv.Itoa(r.Bitrate),
		"-maxrate", strconv.Itoa(r.Bitrate/10*11),
		"-bufsize", strconv.Itoa(r.Bitrate*2),
		"-g", strconv.Itoa(gop), "-keyint_min", strconv.Itoa(gop),
		"-bf", "0", "-forced-idr", "1",
		"-force_key_frames", expr,
	)
	if r.Codec == media.CodecH265 {
		params := "scenecut=0:open-gop=0:bframes=0:repeat-headers=1:log-level=warning"
		if !a.LowLatency {
			params += ":rc-lookahead=10"
		}
		args = append(args, "-x265-params", params)
	} else {
		args = append(args, "-sc_threshold", "0")
		if !a.LowLatency {
			args = append(args, "-rc-lookahead", "10")
		}
	}
	if a.LowLatency {
		args = append(args, "-tune", "zerolatency")
	}
	if a.Threads > 0 {
		args = append(args, "-threads", strconv.Itoa(a.Threads))
	}
	return args
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// firstSlot returns the index (in units of 1/rate) of the first frame the
// encoder sees: the fps filter starts at start_time, or else at the first
// input frame, rounded to the nearest slot.
func firstSlot(a Args, num, den int) int64 {
	perTick := float64(num) / float64(den) / media.Timescale
	if a.StartPTS > 0 {
		return int64(math.Round(float64(a.StartPTS) * perTick))
	}
	return int64(math.Round(float64(a.FirstPTS) * perTick))
}

// slotTicks returns the 90 kHz timestamp of slot k at rate num/den.
func slotTicks(k int64, num, den int) int64 {
	return int64(math.Round(float64(k) * float64(den) * media.Timescale / float64(num)))
}

// frameRate returns the rendition's output rate as a fraction: its FPS,
// or the source's when that is lower (never invent frames). NTSC rates
// (29.97, 59.94) are kept exact.
func frameRate(r media.Rendition, src media.Track) (num, den int) {
	f := r.FPS
	if src.FPS > 0 && src.FPS < f {
		f = src.FPS
	}
	if f <= 0 {
		f = 30
	}
	if n := math.Round(f); math.Abs(f-n) < 0.001 {
		return int(n), 1
	}
	if n := math.Round(f * 1.001); math.Abs(f-n*1000/1001) < 0.001 {
		return int(n) * 1000, 1001
	}
	return int(math.Round(f * 1000)), 1000
}

func rateString(num, den int) string {
	if den == 1 {
		return strconv.Itoa(num)
	}
	return fmt.Sprintf("%d/%d", num, den)
}
