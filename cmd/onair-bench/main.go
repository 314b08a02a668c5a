// Command onair-bench measures onair on this machine and prints one
// Markdown table per figure, with the exact commands and parameters used:
//
//	go run ./cmd/onair-bench [-only transcode,latency,coldstart,origin,edge,viewers,failover,pipelines] [-seconds 30] [-onair bin/onair]
//
// Figures: transcode (CPU of a channel's transcoding against raw ffmpeg
// with the same ladder), latency (ingest-to-available from onair's part
// latency histogram, and hls.js low-latency playback latency checked
// against a clock burnt into the picture), coldstart (exec to ready, to a
// full master playlist, to a first segment in every rendition) and origin
// (wrk requests/s for a playlist and segments, onair vs nginx serving the
// same bytes) and edge (wrk cache-hit requests/s for a playlist and a
// segment, onair edge vs nginx serving files vs Varnish caching the same
// origin) and viewers (simulated LL-HLS viewers on one onair edge in front
// of a synthetic origin, ramped in steps: cache-hit latency, memory and
// origin offload) and failover (the primary publisher killed while a
// backup publishes: time to the switch and the output's timestamp jump)
// and pipelines (a standard-mode channel's active pipeline's ffmpeg
// killed: time until the API and the playlists serve the standby, sequence
// continuity; CPU of a standard channel against a single one).
// docs/BENCHMARKS.md explains each figure and records a run.
//
// Everything listens and connects on 127.0.0.1 only. Every process the
// bench starts runs in its own process group and is stopped (SIGTERM, then
// SIGKILL) when its figure ends, on error and on SIGINT/SIGTERM. It needs
// bin/onair (scripts/setup.sh), ffmpeg, node with web/node_modules and
// Chromium (for the player figure), nginx (Debian nginx-light), wrk and
// varnishd (Debian varnish, for the edge figure).
// Run it from the repository root. A default run takes about 15 minutes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// figures in run order, by -only name.
var figureNames = []string{"transcode", "latency", "coldstart", "origin", "edge", "viewers", "failover", "pipelines", "edgechecks"}

// bench holds what every figure needs.
type bench struct {
	onair   string  // path to the onair binary
	repo    string  // repository root (test/player, web/)
	seconds int     // measurement window of the transcode and latency figures
	tmp     string  // scratch directory, removed at the end
	shots   string  // where screenshots are kept
	clk     float64 // clock ticks per second for /proc stat
	procs   *procs
	logw    io.Writer // progress
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(b.logw, "onair-bench: "+format+"\n", args...)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "onair-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	only := flag.String("only", strings.Join(figureNames, ","), "comma-separated figures to run: "+strings.Join(figureNames, ", "))
	seconds := flag.Int("seconds", 30, "measurement window in seconds of the transcode and latency figures (the player, wrk and each viewers step use at most 20, 10 and 10)")
	onair := flag.String("onair", "bin/onair", "path to the onair binary (build it with scripts/setup.sh)")
	flag.Parse()
	if *seconds < 3 || *seconds > 300 {
		return fmt.Errorf("-seconds %d: want 3..300", *seconds)
	}
	want := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !slices.Contains(figureNames, n) {
			return fmt.Errorf("-only: unknown figure %q (have %s)", n, strings.Join(figureNames, ", "))
		}
		want[n] = true
	}
	if err := checkTools(want, *onair); err != nil {
		return err
	}
	bin, err := filepath.Abs(*onair)
	if err != nil {
		return fmt.Errorf("onair path: %w", err)
	}
	repo, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("working directory: %w", err)
	}
	tmp, err := os.MkdirTemp("", "onair-bench-")
	if err != nil {
		return fmt.Errorf("scratch dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	// nginx workers run as an unprivileged user: they must be able to
	// read the document root below tmp.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("scratch dir: %w", err)
	}
	logDir := filepath.Join(tmp, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return fmt.Errorf("log dir: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{onair: bin, repo: repo, seconds: *seconds, tmp: tmp, clk: clockTicks(), procs: newProcs(logDir), logw: os.Stderr}
	defer b.procs.stopAll()

	start := time.Now()
	fmt.Print(machineReport(ctx, bin, os.Args[1:]))
	type fig func(context.Context) (*section, error)
	figs := map[string]fig{"transcode": b.figTranscode, "latency": b.figLatency, "coldstart": b.figColdstart, "origin": b.figOrigin, "edge": b.figEdge, "viewers": b.figViewers, "failover": b.figFailover, "pipelines": b.figPipelines, "edgechecks": b.figEdgeChecks}
	var failed []string
	for _, name := range figureNames {
		if !want[name] {
			continue
		}
		t0 := time.Now()
		sec, err := figs[name](ctx)
		b.procs.stopAll() // nothing outlives its figure
		if ctx.Err() != nil {
			return errors.New("interrupted; every started process was stopped")
		}
		if err != nil {
			failed = append(failed, name)
			fmt.Printf("## %s: FAILED\n\n```\n%v\n```\n\n", name, err)
			b.progress("%s failed: %v", name, err)
			continue
		}
		fmt.Print(sec.markdown())
		fmt.Printf("_(%s took %v; load average after: %s)_\n\n", name, time.Since(t0).Round(time.Second), loadAvg())
	}
	fmt.Printf("Total bench time: %v.\n", time.Since(start).Round(time.Second))
	if len(failed) > 0 {
		return fmt.Errorf("figures failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

// checkTools reports every missing tool at once, with how to get it.
func checkTools(want map[string]bool, onair string) error {
	var missing []string
	if _, err := os.Stat(onair); err != nil {
		missing = append(missing, fmt.Sprintf("%s not found: build it with `bash scripts/setup.sh` or pass -onair PATH", onair))
	}
	need := map[string]string{"ffmpeg": "apt-get install -y ffmpeg", "getconf": "apt-get install -y libc-bin"}
	if want["latency"] {
		need["node"] = "install Node.js 20 and run scripts/vendor-web.sh"
		need["chromium"] = "apt-get install -y chromium"
	}
	if want["origin"] || want["edge"] || want["edgechecks"] {
		need["nginx"] = "apt-get install -y nginx-light"
		need["wrk"] = "apt-get install -y wrk"
	}
	if want["edge"] {
		need["varnishd"] = "apt-get install -y varnish"
	}
	for tool, how := range need {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, fmt.Sprintf("%s not found in PATH: %s", tool, how))
		}
	}
	if want["latency"] {
		if _, err := os.Stat(filepath.Join("test", "player", "play.mjs")); err != nil {
			missing = append(missing, "test/player/play.mjs not found: run onair-bench from the repository root")
		}
		if _, err := os.Stat(filepath.Join("web", "node_modules", "playwright-core")); err != nil {
			missing = append(missing, "web/node_modules/playwright-core not found: run scripts/vendor-web.sh")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing prerequisites:\n  %s", strings.Join(missing, "\n  "))
	}
	return nil
}
