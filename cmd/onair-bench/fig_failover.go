package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const failoverRuns = 5

// failoverRun is one input failover as measured.
type failoverRun struct {
	wall  time.Duration // primary killed -> the API reports the backup active
	media float64       // largest gap between consecutive output video frames around the switch, s
}

// inputsInfo is the part of a channel's API state this figure reads.
type inputsInfo struct {
	BackupIngest struct {
		RTMPURL string `json:"rtmp_url"`
	} `json:"backup_ingest"`
	Inputs *struct {
		Active string `json:"active"`
	} `json:"inputs"`
}

// failoverPublisher sends one encode of a test picture to url: x264 with
// a keyframe every 2 s, a tone, real time.
func failoverPublisher(url string) []string {
	return []string{"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-bf", "0", "-b:v", "800k",
		"-c:a", "aac", "-b:a", "96k", "-f", "flv", url}
}

func (b *bench) figFailover(ctx context.Context) (*section, error) {
	var runs []failoverRun
	var argv []string
	for i := 1; i <= failoverRuns; i++ {
		b.progress("failover: run %d of %d", i, failoverRuns)
		r, a, err := b.failoverRun(ctx, filepath.Join(b.tmp, fmt.Sprintf("failover-%d", i)))
		if err != nil {
			return nil, fmt.Errorf("failover run %d: %w", i, err)
		}
		b.progress("failover: run %d: switch after %v, largest output frame gap %.3f s", i, r.wall, r.media)
		runs, argv = append(runs, r), a
	}
	sec := &section{
		title: "7. Input failover",
		measures: "A channel with two ffmpeg publishers of the same test picture (640x360, 30 fps, a keyframe every 2 s), one on the " +
			"primary and one on the backup input (two encoders started a moment apart, so their timestamps are not in step). The primary's " +
			"ffmpeg is killed with SIGKILL. **Wall:** from the kill to the API reporting the backup active, polled every 20 ms; the switch " +
			"waits for the loss time (inputs.loss_after, 1 s) and then for the backup's next keyframe (up to 2 s). **Media:** the largest gap " +
			"between consecutive video frames of the `source` rendition (the input passed through) over the last 5 segments after the switch, " +
			"read with ffprobe: how far the output's timestamps jump at the switch (one frame is 0.033 s). Goal: a jump of at most one segment (2 s).",
		commands: []string{"# " + strconv.Itoa(failoverRuns) + " runs, each with a new data directory; per run:", shellQuote(argv),
			shellQuote(failoverPublisher("rtmp://127.0.0.1:PORT/live/PRIMARY_KEY")),
			shellQuote(failoverPublisher("rtmp://127.0.0.1:PORT/live/BACKUP_KEY")), "kill -9 PRIMARY_FFMPEG"},
	}
	t := newTable("run", "kill -> backup active (wall)", "largest output frame gap (media)")
	var ws, ms []float64
	for i, r := range runs {
		t.add(strconv.Itoa(i+1), secs3(r.wall.Seconds()), secs3(r.media))
		ws, ms = append(ws, r.wall.Seconds()), append(ms, r.media)
	}
	_, wMax := minMax(ws)
	_, mMax := minMax(ms)
	t.add("median", secs3(median(ws)), secs3(median(ms)))
	t.add("max", secs3(wMax), secs3(mMax))
	sec.tables = append(sec.tables, t)
	verdict := "met"
	if mMax > 2 {
		verdict = "NOT met"
	}
	sec.reading = fmt.Sprintf("the backup takes over %s after the kill (median; max %s); the output's timestamps jump by at most %s (goal ≤ 2 s: %s).",
		secs(median(ws)), secs(wMax), secs(mMax), verdict)
	return sec, nil
}

func (b *bench) failoverRun(ctx context.Context, dir string) (failoverRun, []string, error) {
	srv, err := startOnair(b.procs, b.onair, "onair-failover", filepath.Join(dir, "data"))
	if err != nil {
		return failoverRun{}, nil, err
	}
	defer srv.stop()
	if err := srv.waitReady(ctx, 30*time.Second); err != nil {
		return failoverRun{}, nil, err
	}
	ch, err := srv.createChannel(ctx, "fo", false)
	if err != nil {
		return failoverRun{}, nil, err
	}
	state := func() (inputsInfo, error) {
		code, _, body := srv.get(ctx, "/api/v1/channels/fo")
		var in inputsInfo
		if code != 200 {
			return in, fmt.Errorf("channel state: HTTP %d", code)
		}
		return in, json.Unmarshal(body, &in)
	}
	info, err := state()
	if err != nil {
		return failoverRun{}, nil, err
	}
	prim, err := b.procs.start("ffmpeg-primary", failoverPublisher(ch.Ingest.RTMPURL), startOpts{})
	if err != nil {
		return failoverRun{}, nil, err
	}
	defer prim.stop(3 * time.Second)
	back, err := b.procs.start("ffmpeg-backup", failoverPublisher(info.BackupIngest.RTMPURL), startOpts{})
	if err != nil {
		return failoverRun{}, nil, err
	}
	defer back.stop(3 * time.Second)
	active := func(want string) func() (bool, error) {
		return func() (bool, error) {
			in, err := state()
			return err == nil && in.Inputs != nil && in.Inputs.Active == want, nil
		}
	}
	// On the primary (after the clear time if the backup came first), with segments.
	if err := poll(ctx, 40*time.Second, 100*time.Millisecond, "the primary active", active("primary")); err != nil {
		return failoverRun{}, nil, err
	}
	if err := sleep(ctx, 6*time.Second); err != nil {
		return failoverRun{}, nil, err
	}
	killed := time.Now()
	_ = syscall.Kill(-prim.pid(), syscall.SIGKILL)
	if err := poll(ctx, 15*time.Second, 20*time.Millisecond, "the backup active", active("backup")); err != nil {
		return failoverRun{}, nil, err
	}
	r := failoverRun{wall: time.Since(killed)}
	if err := sleep(ctx, 8*time.Second); err != nil {
		return failoverRun{}, nil, err
	}
	gap, err := largestFrameGap(ctx, srv, dir)
	if err != nil {
		return failoverRun{}, nil, err
	}
	r.media = gap
	return r, srv.argv, nil
}

// largestFrameGap fetches the source rendition's init and its last 5
// complete segments and returns the largest gap between consecutive video
// frames, in seconds.
func largestFrameGap(ctx context.Context, srv *onairServer, dir string) (float64, error) {
	code, _, body := srv.get(ctx, "/live/fo/source/index.m3u8")
	if code != 200 {
		return 0, fmt.Errorf("source playlist: HTTP %d", code)
	}
	text := string(body)
	segs := parseMediaSegments(text)
	if len(segs) < 5 {
		return 0, fmt.Errorf("only %d segments in the source playlist", len(segs))
	}
	initURI := "init.mp4"
	if i := strings.LastIndex(text, `#EXT-X-MAP:URI="`); i >= 0 {
		rest := text[i+len(`#EXT-X-MAP:URI="`):]
		initURI = rest[:strings.IndexByte(rest, '"')]
	}
	var data []byte
	for _, uri := range append([]string{initURI}, uriList(segs[len(segs)-5:])...) {
		code, _, b := srv.get(ctx, "/live/fo/source/"+uri)
		if code != 200 {
			return 0, fmt.Errorf("%s: HTTP %d", uri, code)
		}
		data = append(data, b...)
	}
	file := filepath.Join(dir, "source.mp4")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return 0, err
	}
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time",
		"-of", "csv=p=0", file).Output()
	if err != nil {
		return 0, fmt.Errorf("ffprobe: %w", err)
	}
	var prev, gap float64
	first := true
	for _, line := range strings.Fields(string(out)) {
		v, err := strconv.ParseFloat(strings.TrimSuffix(line, ","), 64)
		if err != nil {
			continue
		}
		if !first && v-prev > gap {
			gap = v - prev
		}
		prev, first = v, false
	}
	return gap, nil
}

// uriList returns the segments' URIs.
func uriList(segs []mediaSegment) []string {
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = s.URI
	}
	return out
}
