// Package player_test checks the headless Chromium player harness
// (play.mjs) and the dashboard player page against live streams made by
// ffmpeg. Needs /usr/bin/chromium, node, ffmpeg, and web/node_modules from
// scripts/vendor-web.sh; it fails (never skips) when they are missing.
package player_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// playResult is play.mjs's JSON line.
type playResult struct {
	OK            bool      `json:"ok"`
	Reason        string    `json:"reason"`
	HarnessError  string    `json:"harness_error"`
	StartupMS     *int64    `json:"startup_ms"`
	Seconds       float64   `json:"seconds"`
	Advanced      float64   `json:"advanced"`
	Rate          float64   `json:"rate"`
	Stalls        int       `json:"stalls"`
	Errors        []string  `json:"errors"`
	ConsoleErrors []string  `json:"console_errors"`
	LatencyS      []float64 `json:"latency_s"`
	LevelsSeen    []int     `json:"levels_seen"`
}

// repoRoot is the module root, two levels up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// requireTools fails the test with a fix when a dependency is missing.
func requireTools(t *testing.T) {
	t.Helper()
	root := repoRoot(t)
	for _, f := range []string{
		"/usr/bin/chromium",
		filepath.Join(root, "web/node_modules/playwright-core/package.json"),
		filepath.Join(root, "web/node_modules/hls.js/dist/hls.min.js"),
	} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s is missing: run scripts/vendor-web.sh (and install chromium): %v", f, err)
		}
	}
	for _, bin := range []string{"node", "ffmpeg"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s not found in PATH: %v", bin, err)
		}
	}
}

// liveHLS starts ffmpeg writing a live fMP4 HLS stream (1 s segments, a
// sliding window, PROGRAM-DATE-TIME) into a temp dir in real time, and
// returns the dir once the playlist holds a few segments. ffmpeg is
// stopped when the test ends.
func liveHLS(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	args := append(ffmpegSource(),
		"-f", "hls", "-hls_segment_type", "fmp4", "-hls_time", "1", "-hls_list_size", "8",
		"-hls_flags", "independent_segments+program_date_time+temp_file",
		"-hls_fmp4_init_filename", "init.mp4",
		"-hls_segment_filename", filepath.Join(dir, "seg%d.m4s"),
		filepath.Join(dir, "index.m3u8"))
	startFFmpeg(t, args)
	waitFor(t, 20*time.Second, "4 segments in the playlist", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "index.m3u8"))
		return bytes.Count(b, []byte("#EXTINF")) >= 4
	})
	return dir
}

// ffmpegSource is a real-time 640x360 25 fps test pattern with a tone,
// H.264 with a keyframe every second (one per segment) and AAC.
func ffmpegSource() []string {
	return []string{
		"-hide_banner", "-loglevel", "error", "-nostdin",
		"-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
		"-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-map", "0:v", "-map", "1:a", "-t", "120",
		"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-bf", "0", "-b:v", "500k",
		"-c:a", "aac", "-b:a", "64k", "-ac", "2",
	}
}

func startFFmpeg(t *testing.T, args []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start ffmpeg: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-done
		if s := strings.TrimSpace(stderr.String()); s != "" && !t.Failed() {
			t.Logf("ffmpeg stderr: %s", s)
		}
	})
}

// waitFor polls cond every 100 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %v", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// play runs the harness and decodes its report.
func play(t *testing.T, url string, extra ...string) playResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	args := append([]string{filepath.Join(repoRoot(t), "test/player/play.mjs"), "--url", url}, extra...)
	cmd := exec.CommandContext(ctx, "node", args...)
	// On timeout let play.mjs close Chromium itself.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		t.Fatalf("play.mjs %v: %v\nstdout: %s\nstderr: %s", extra, err, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("play.mjs printed %d lines, want 1:\n%s", len(lines), stdout.String())
	}
	var res playResult
	if err := json.Unmarshal([]byte(lines[0]), &res); err != nil {
		t.Fatalf("play.mjs output %q: %v", lines[0], err)
	}
	t.Logf("play.mjs: %s", lines[0])
	return res
}

// checkPlayed asserts real-time, stall-free playback with no errors.
func checkPlayed(t *testing.T, res playResult) {
	t.Helper()
	if !res.OK {
		t.Fatalf("playback not ok: %s (errors %v, console %v)", res.Reason, res.Errors, res.ConsoleErrors)
	}
	if res.StartupMS == nil || *res.StartupMS > 15000 {
		t.Errorf("startup %v ms", res.StartupMS)
	}
	if res.Rate < 0.85 || res.Rate > 1.15 {
		t.Errorf("rate %.3f (advanced %.2f s in %.2f s), want about 1", res.Rate, res.Advanced, res.Seconds)
	}
	if res.Stalls != 0 {
		t.Errorf("%d stalls", res.Stalls)
	}
	if len(res.Errors) != 0 {
		t.Errorf("errors: %v", res.Errors)
	}
	if len(res.LatencyS) == 0 {
		t.Error("no latency samples")
	}
	for _, l := range res.LatencyS {
		if l <= 0 || l > 15 {
			t.Errorf("latency %.3f s out of (0, 15]", l)
		}
	}
}

// tinyPage plays /live/index.m3u8 with hls.js and exposes window.onair like
// the dashboard does.
const tinyPage = `<!doctype html>
<meta charset="utf-8"><link rel="icon" href="data:,">
<video id="v" muted autoplay playsinline controls width="640"></video>
<script src="/hls.min.js"></script>
<script>
const v = document.getElementById('v');
const hls = new Hls();
window.onair = {
  player: hls, events: [], errors: [],
  stats() {
    const pd = hls.playingDate;
    const b = v.buffered;
    return {
      currentTime: v.currentTime,
      latency: pd ? (Date.now() - pd.getTime()) / 1000 : hls.latency,
      level: hls.currentLevel,
      buffered: b.length ? b.end(b.length - 1) - v.currentTime : 0,
    };
  },
};
hls.on(Hls.Events.ERROR, (_, d) => {
  window.onair.events.push(d.type + '/' + d.details);
  if (d.fatal) window.onair.errors.push(d.type + '/' + d.details);
});
hls.loadSource('/live/index.m3u8');
hls.attachMedia(v);
</script>
`

// TestHarnessPlaysLiveHLS: the harness reports real-time, stall-free
// playback of a live fMP4 HLS stream from ffmpeg played by hls.js.
func TestHarnessPlaysLiveHLS(t *testing.T) {
	requireTools(t)
	dir := liveHLS(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, tinyPage)
	})
	mux.HandleFunc("GET /hls.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(repoRoot(t), "web/node_modules/hls.js/dist/hls.min.js"))
	})
	mux.Handle("GET /live/", http.StripPrefix("/live/", noCache(http.FileServer(http.Dir(dir)))))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	res := play(t, srv.URL+"/", "--seconds", "6", "--expect-stall-free")
	checkPlayed(t, res)
}

// TestHarnessReportsFailure: a page that never plays is reported as not ok
// with exit 0, quickly.
func TestHarnessReportsFailure(t *testing.T) {
	requireTools(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><link rel="icon" href="data:,"><video src="/nothing.mp4" autoplay muted></video>`)
	}))
	defer srv.Close()
	res := play(t, srv.URL+"/", "--seconds", "1", "--startup-timeout", "3")
	if res.OK || res.Reason == "" || res.StartupMS != nil {
		t.Errorf("broken page reported %+v", res)
	}
}

// noCache makes playlists revalidate; a live playlist must not be cached.
func noCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}
