package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"onair/internal/media"
	"onair/internal/transcode"
)

// transcodeWarmup is how long after the source starts the CPU window opens.
const transcodeWarmup = 5 * time.Second

// cpuSample is one measured window: CPU seconds per wall (= media, the
// source is read with -re) second.
type cpuSample struct {
	onairGo float64 // the onair process alone
	onairFF float64 // onair's transcoder ffmpeg
	raw     float64 // the raw ffmpeg run
	speed   float64 // onair_transcode_speed at the end of an onair run (0 unknown)
}

// srcTrack is the source the transcode figure uses.
var srcTrack = media.Track{Kind: media.KindVideo, Codec: media.CodecH264, Width: 1280, Height: 720, FPS: 30}

// sourceFileArgs returns the ffmpeg command that makes the H.264+AAC
// source file: testsrc2 and a tone, x264 veryfast, a keyframe every 2 s.
func sourceFileArgs(out string, seconds int) []string {
	return []string{"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.Itoa(seconds),
		"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
		"-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
		"-b:v", "3000k", "-maxrate", "3000k", "-bufsize", "6000k",
		"-c:a", "aac", "-b:a", "128k", "-ac", "2", "-y", out}
}

// tsRemuxArgs returns the command that copies the source file's video
// into MPEG-TS, as onair feeds its transcoder (video only, MPEG-TS),
// starting at 2 s like onair's fed timeline (one segment of padding).
func tsRemuxArgs(in, out string) []string {
	return []string{"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", in,
		"-map", "0:v:0", "-c", "copy", "-f", "mpegts", "-muxdelay", "0", "-muxpreload", "0",
		"-output_ts_offset", "2", "-y", out}
}

// rawTranscodeArgs returns the raw ffmpeg command: exactly the argv onair's
// transcoder gets from transcode.BuildArgs for this source and the default
// ladder, with the input replaced by the file read at real speed (-re)
// and every pipe output replaced by /dev/null (with -y, so ffmpeg does not
// ask before "overwriting" it).
func rawTranscodeArgs(input string) []string {
	ladder := media.Fit(media.DefaultLadder(), srcTrack)
	start := int64(2 * media.Timescale) // onair's first fed PTS: one segment of padding
	args := transcode.BuildArgs(transcode.Args{
		Source: srcTrack, Renditions: ladder, Segment: 2 * time.Second,
		FirstPTS: start, StartPTS: start, Input: input,
	})
	out := []string{"ffmpeg", "-y"}
	for i, a := range args {
		if a == "-f" && i+3 < len(args) && args[i+2] == "-i" {
			out = append(out, "-re")
		}
		if strings.HasPrefix(a, "pipe:") {
			a = "/dev/null"
		}
		out = append(out, a)
	}
	return out
}

// normalizeArgv makes two transcoder argvs comparable: the input and the
// outputs are replaced by placeholders and -re and -y are dropped.
func normalizeArgv(argv []string) []string {
	var out []string
	for i, a := range argv {
		switch {
		case i == 0 || a == "-re" || a == "-y":
			continue
		case i > 0 && argv[i-1] == "-i":
			a = "IN"
		case strings.HasPrefix(a, "pipe:") || a == "/dev/null":
			a = "OUT"
		}
		out = append(out, a)
	}
	return out
}

func (b *bench) figTranscode(ctx context.Context) (*section, error) {
	dir := filepath.Join(b.tmp, "transcode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	window := time.Duration(b.seconds) * time.Second
	length := int((transcodeWarmup + window).Seconds()) + 5
	src, ts := filepath.Join(dir, "src.mp4"), filepath.Join(dir, "src.ts")
	b.progress("transcode: making the %d s source file", length)
	genArgs := sourceFileArgs(src, length)
	if err := b.procs.run(ctx, "ffmpeg-source", genArgs, startOpts{}); err != nil {
		return nil, fmt.Errorf("transcode: make source: %w", err)
	}
	remux := tsRemuxArgs(src, ts)
	if err := b.procs.run(ctx, "ffmpeg-remux", remux, startOpts{}); err != nil {
		return nil, fmt.Errorf("transcode: remux source: %w", err)
	}
	raw := rawTranscodeArgs(ts)

	var samples []cpuSample
	var onairArgv []string
	var pubArgs []string
	var serveArgv []string
	for pair := 1; pair <= 2; pair++ {
		b.progress("transcode: pair %d: onair run (%v window after %v warm-up)", pair, window, transcodeWarmup)
		a, argv, pa, sa, err := b.transcodeOnair(ctx, dir, pair, src, window)
		if err != nil {
			return nil, fmt.Errorf("transcode: onair run %d: %w", pair, err)
		}
		onairArgv, pubArgs, serveArgv = argv, pa, sa
		b.progress("transcode: pair %d: raw ffmpeg run", pair)
		r, err := b.transcodeRaw(ctx, raw, window)
		if err != nil {
			return nil, fmt.Errorf("transcode: raw run %d: %w", pair, err)
		}
		a.raw = r
		samples = append(samples, a)
	}

	sec := &section{
		title: "1. Transcode CPU: onair vs raw ffmpeg",
		measures: fmt.Sprintf("CPU time (utime+stime from /proc/PID/stat, %v ticks/s) per second of media, "+
			"for one channel transcoding a 1280x720@30 H.264+AAC source into the default ladder fitted to it (%s), "+
			"against a raw ffmpeg with the same encoding arguments on the same file, back to back on the same machine "+
			"(A B A B). onair = the `onair serve` process (ingest, channel clock, MPEG-TS to ffmpeg, CMAF packaging of "+
			"every rendition including source and audio passthrough, storage, origin, NATS) plus its transcoder ffmpeg "+
			"child; the publisher ffmpeg is not counted. Raw = the argv transcode.BuildArgs gives onair's transcoder, "+
			"input replaced by the same video as MPEG-TS read with -re, outputs to /dev/null (raw does nothing for "+
			"source/audio passthrough, which onair does in Go). Window: %v, after a %v warm-up; both read the source at "+
			"real speed, so wall seconds = media seconds. Goal: onair within 3%% of raw (ratio <= 1.03).",
			b.clk, ladderNames(), window, transcodeWarmup),
		commands: []string{
			"# source file (" + strconv.Itoa(length) + " s)",
			shellQuote(genArgs),
			shellQuote(remux),
			"# run A: onair (fresh data dir, no --demo), channel created with low_latency false, then",
			shellQuote(serveArgv),
			shellQuote(pubArgs),
			"# onair's transcoder as it ran (from /proc/PID/cmdline)",
			shellQuote(onairArgv),
			"# run B: raw ffmpeg",
			shellQuote(raw),
		},
	}
	if !slices.Equal(normalizeArgv(onairArgv), normalizeArgv(raw)) {
		sec.notes = append(sec.notes, "WARNING: onair's transcoder argv differs from the raw argv beyond input and outputs; compare the two commands above.")
	} else {
		sec.notes = append(sec.notes, "onair's transcoder argv (read from /proc) and the raw argv are identical apart from the input, the outputs and -re.")
	}
	t := newTable("pair", "onair process", "onair's ffmpeg", "onair total", "raw ffmpeg", "ratio onair total / raw", "onair's ffmpeg / raw", "onair transcode speed")
	var tot, rawv, ratio, ffRatio, goV, ffV []float64
	for i, s := range samples {
		total := s.onairGo + s.onairFF
		t.add(strconv.Itoa(i+1), f3(s.onairGo), f3(s.onairFF), f3(total), f3(s.raw),
			f3(total/s.raw), f3(s.onairFF/s.raw), speedString(s.speed))
		tot, rawv = append(tot, total), append(rawv, s.raw)
		ratio, ffRatio = append(ratio, total/s.raw), append(ffRatio, s.onairFF/s.raw)
		goV, ffV = append(goV, s.onairGo), append(ffV, s.onairFF)
	}
	mr := median(ratio)
	t.add("median", f3(median(goV)), f3(median(ffV)), f3(median(tot)), f3(median(rawv)), f3(mr), f3(median(ffRatio)), "")
	sec.tables = append(sec.tables, t)
	sec.notes = append(sec.notes, "Figures are CPU seconds per media second (1.000 = one core busy). The median ratio is the median of the per-pair ratios.")
	verdict := "meets the goal"
	if mr > 1.03 {
		verdict = "misses the goal"
	}
	sec.reading = fmt.Sprintf("median ratio %.3f (onair %+.1f%% vs raw): %s; onair's own Go process costs %.3f CPU s per media s, its ffmpeg %.3f× raw.",
		mr, (mr-1)*100, verdict, median(goV), median(ffRatio))
	return sec, nil
}

// transcodeOnair runs one A run; it returns the sample and the argv of
// onair's transcoder, the publisher and onair.
func (b *bench) transcodeOnair(ctx context.Context, dir string, pair int, src string, window time.Duration) (cpuSample, []string, []string, []string, error) {
	srv, err := startOnair(b.procs, b.onair, "onair-transcode", filepath.Join(dir, fmt.Sprintf("data-%d", pair)))
	if err != nil {
		return cpuSample{}, nil, nil, nil, err
	}
	defer srv.stop()
	if err := srv.waitReady(ctx, 30*time.Second); err != nil {
		return cpuSample{}, nil, nil, nil, err
	}
	ch, err := srv.createChannel(ctx, "bench", false)
	if err != nil {
		return cpuSample{}, nil, nil, nil, err
	}
	pubArgs := []string{"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-i", src, "-c", "copy", "-f", "flv", ch.Ingest.RTMPURL}
	pub, err := b.procs.start("ffmpeg-publish", pubArgs, startOpts{})
	if err != nil {
		return cpuSample{}, nil, nil, nil, err
	}
	defer pub.stop(3 * time.Second)
	t0 := time.Now()
	var ff procStat
	err = poll(ctx, 15*time.Second, 50*time.Millisecond, "onair's transcoder ffmpeg", func() (bool, error) {
		if pub.exited() {
			return false, fmt.Errorf("publisher exited:\n%s", pub.tail(5))
		}
		kids, err := children(srv.p.pid())
		if err != nil {
			return false, err
		}
		for _, k := range kids {
			if k.Comm == "ffmpeg" {
				ff = k
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return cpuSample{}, nil, nil, nil, err
	}
	argv, err := cmdline(ff.PID)
	if err != nil {
		return cpuSample{}, nil, nil, nil, err
	}
	if err := sleep(ctx, time.Until(t0.Add(transcodeWarmup))); err != nil {
		return cpuSample{}, nil, nil, nil, err
	}
	go0, ff0, w0, err := sampleTwo(srv.p.pid(), ff)
	if err != nil {
		return cpuSample{}, nil, nil, nil, err
	}
	if err := sleep(ctx, window); err != nil {
		return cpuSample{}, nil, nil, nil, err
	}
	go1, ff1, w1, err := sampleTwo(srv.p.pid(), ff)
	if err != nil {
		return cpuSample{}, nil, nil, nil, fmt.Errorf("end of window (did the transcoder restart?): %w", err)
	}
	if pub.exited() {
		return cpuSample{}, nil, nil, nil, fmt.Errorf("publisher ended before the window closed (source too short?):\n%s", pub.tail(5))
	}
	wall := w1.Sub(w0).Seconds()
	s := cpuSample{
		onairGo: float64(go1.CPU()-go0.CPU()) / b.clk / wall,
		onairFF: float64(ff1.CPU()-ff0.CPU()) / b.clk / wall,
	}
	if m, err := srv.metrics(ctx); err == nil {
		s.speed, _ = parseGauge(m, "onair_transcode_speed", `channel="bench"`)
	}
	if c, err := srv.channel(ctx, "bench"); err == nil && c.Transcoder != nil && c.Transcoder.Restarts > 0 {
		return cpuSample{}, nil, nil, nil, fmt.Errorf("the transcoder restarted %d times during the run", c.Transcoder.Restarts)
	}
	return s, argv, pubArgs, srv.argv, nil
}

// sampleTwo reads the CPU of onair and of its transcoder; it fails when
// the transcoder is no longer the same process.
func sampleTwo(onairPID int, ff procStat) (procStat, procStat, time.Time, error) {
	now := time.Now()
	a, err := readProcStat(onairPID)
	if err != nil {
		return procStat{}, procStat{}, now, err
	}
	f, err := readProcStat(ff.PID)
	if err != nil {
		return procStat{}, procStat{}, now, err
	}
	if f.StartTime != ff.StartTime {
		return procStat{}, procStat{}, now, errors.New("the transcoder ffmpeg was replaced")
	}
	return a, f, now, nil
}

// transcodeRaw runs one B run and returns its CPU per media second.
func (b *bench) transcodeRaw(ctx context.Context, argv []string, window time.Duration) (float64, error) {
	p, err := b.procs.start("ffmpeg-raw", argv, startOpts{})
	if err != nil {
		return 0, err
	}
	defer p.stop(3 * time.Second)
	if err := sleep(ctx, transcodeWarmup); err != nil {
		return 0, err
	}
	s0, err := readProcStat(p.pid())
	if err != nil {
		return 0, fmt.Errorf("raw ffmpeg: %w\n%s", err, p.tail(5))
	}
	w0 := time.Now()
	if err := sleep(ctx, window); err != nil {
		return 0, err
	}
	s1, err := readProcStat(p.pid())
	if err != nil {
		return 0, fmt.Errorf("raw ffmpeg ended before the window closed: %w\n%s", err, p.tail(5))
	}
	return float64(s1.CPU()-s0.CPU()) / b.clk / time.Since(w0).Seconds(), nil
}

// cmdline returns a process's argv from /proc/PID/cmdline.
func cmdline(pid int) ([]string, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return nil, fmt.Errorf("read cmdline of %d: %w", pid, err)
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"), nil
}

// parseGauge returns the value of the first sample of name with the label
// pair match.
func parseGauge(text []byte, name, match string) (float64, bool) {
	for _, line := range strings.Split(string(text), "\n") {
		metric, labels, value, ok := splitSample(strings.TrimSpace(line))
		if !ok || metric != name || (match != "" && !hasLabel(labels, match)) {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		return v, err == nil
	}
	return 0, false
}

func ladderNames() string {
	var names []string
	for _, r := range media.Fit(media.DefaultLadder(), srcTrack) {
		names = append(names, r.Name)
	}
	return strings.Join(names, ", ")
}

func f3(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }

func speedString(s float64) string {
	if s <= 0 {
		return ""
	}
	return strconv.FormatFloat(s, 'f', 2, 64) + "x"
}
