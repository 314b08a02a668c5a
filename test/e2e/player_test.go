package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// playResult is test/player/play.mjs's JSON report.
type playResult struct {
	OK            bool      `json:"ok"`
	Reason        string    `json:"reason"`
	StartupMS     float64   `json:"startup_ms"`
	Seconds       float64   `json:"seconds"`
	Advanced      float64   `json:"advanced"`
	Rate          float64   `json:"rate"`
	Stalls        int       `json:"stalls"`
	Errors        []any     `json:"errors"`
	ConsoleErrors []any     `json:"console_errors"`
	LatencyS      []float64 `json:"latency_s"`
	LevelsSeen    []int     `json:"levels_seen"`
	HarnessError  string    `json:"harness_error"`
}

// play opens url in headless Chromium for seconds and returns the report.
func play(t *testing.T, url string, seconds int) playResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds+90)*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "../player/play.mjs", "--url", url, "--seconds", itoa(seconds), "--startup-timeout", "40")
	out, err := cmd.Output()
	var res playResult
	if jerr := json.Unmarshal(lastLine(out), &res); jerr != nil {
		t.Fatalf("play.mjs: %v / %v, output %q", err, jerr, out)
	}
	if res.HarnessError != "" {
		t.Fatalf("play.mjs harness error: %s (run scripts/vendor-web.sh?)", res.HarnessError)
	}
	return res
}

func itoa(n int) string { return strconv.Itoa(n) }

func lastLine(b []byte) []byte {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return []byte(lines[len(lines)-1])
}

// hls.js and dash.js in headless Chromium play the demo channel for 10 s:
// playback starts, currentTime advances at real-time speed, no stall.
func TestBrowserPlaysDemo(t *testing.T) {
	s := startServer(t, "", "--demo")
	var ch channel
	waitFor(t, 40*time.Second, "demo channel playable", func() bool {
		var code int
		ch, code = s.getChannel(t, "demo")
		if code != 200 || ch.State != "live" {
			return false
		}
		code, _, b := get(ch.Playback.HLS)
		if code != 200 || len(variants(string(b))) < 2 {
			return false
		}
		code, _, b = get(s.base + "/live/demo/160p30/index.m3u8")
		return code == 200 && len(completeSegments(string(b))) >= 3
	})
	for _, player := range []string{"hls", "dash"} {
		t.Run(player, func(t *testing.T) {
			res := play(t, s.base+"/channels/demo?player="+player, 10)
			t.Logf("%s: startup %.0f ms, rate %.3f, stalls %d, latency %v, levels %v", player, res.StartupMS, res.Rate, res.Stalls, res.LatencyS, res.LevelsSeen)
			if !res.OK {
				t.Fatalf("%s did not play: %s (errors %v)", player, res.Reason, res.Errors)
			}
			if res.Rate < 0.85 || res.Rate > 1.15 {
				t.Errorf("%s played at %.2fx real time, want ~1x", player, res.Rate)
			}
			if res.Stalls > 0 {
				t.Errorf("%s stalled %d times after start", player, res.Stalls)
			}
			if len(res.Errors) > 0 {
				t.Errorf("%s reported errors: %v", player, res.Errors)
			}
		})
	}
}
