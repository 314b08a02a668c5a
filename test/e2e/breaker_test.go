package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testPage serves test/player/hls.html and hls.js on a loopback port.
func testPage(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, "../player/hls.html")
	})
	mux.HandleFunc("/hls.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, "../../web/node_modules/hls.js/dist/hls.min.js")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// kill ends the server like a crash: SIGKILL to its process group.
func (s *server) kill() {
	select {
	case err := <-s.done: // already gone
		s.done <- err
		return
	default:
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	err := <-s.done
	s.done <- err
}

// restart starts `onair serve` again on s's data directory and ports.
func (s *server) restart(t *testing.T) *server {
	t.Helper()
	return startServerAt(t, s.dataDir, s.base, s.rtmp, s.srt)
}

// The origin dies while hls.js plays through an edge: the edge's circuit
// opens and the player goes on into the slate without an error; the
// origin comes back and the player returns to live video by itself.
func TestBreakerSlateWhileOriginIsDown(t *testing.T) {
	s := startServer(t, "")
	ch := s.createChannel(t, "brk", false)
	rtmp := fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey)
	publishRTMP(t, rtmp, "320x240", 30, 0)
	waitSegment(t, s.base, "brk", []string{"160p30", "240p30"}, 2, 40*time.Second)
	edge := startEdge(t, s.base)
	playlist := edge + "/live/brk/160p30/index.m3u8"

	const seconds = 75
	results := make(chan error, 1)
	var res playResult
	page := testPage(t)
	go func() {
		var err error
		res, err = runPlayer(page+"/?src="+url.QueryEscape(edge+"/live/brk/master.m3u8"), seconds)
		results <- err
	}()
	// Live playback for a while. The edge continues with slate only the
	// playlists it has served: this test's own checks read 160p30.
	for range 20 {
		if code, _, _ := get(playlist); code != 200 {
			t.Errorf("playlist through the edge: %d", code)
		}
		time.Sleep(time.Second)
	}

	s.kill()
	killedAt := time.Now()
	waitFor(t, 20*time.Second, "slate in the edge's playlist", func() bool {
		code, h, b := get(playlist)
		return code == 200 && h.Get("X-Cache") == "SLATE" && strings.Contains(string(b), "_slate-")
	})
	t.Logf("slate after %.1f s", time.Since(killedAt).Seconds())
	if c := counter(t, edge, `onair_edge_breaker_open`); c != 1 {
		t.Errorf("onair_edge_breaker_open = %v, want 1", c)
	}
	time.Sleep(12 * time.Second) // the player plays slate

	s.restart(t)
	publishRTMP(t, rtmp, "320x240", 30, 0)
	waitFor(t, 40*time.Second, "live segments after the slate", func() bool {
		code, _, b := get(playlist)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		return code == 200 && strings.Contains(string(b), "_slate-") && !strings.Contains(lines[len(lines)-1], "_slate-") &&
			len(completeSegments(string(b))) > 0
	})
	t.Logf("live again %.1f s after the kill", time.Since(killedAt).Seconds())
	if c := counter(t, edge, `onair_edge_breaker_open`); c != 0 {
		t.Errorf("onair_edge_breaker_open = %v after recovery, want 0", c)
	}

	if err := <-results; err != nil {
		t.Fatal(err)
	}
	var phases []string // live, slate, live as playback entered them
	for _, f := range res.Frags {
		kind := "live"
		if strings.Contains(f.URL, "_slate-") {
			kind = "slate"
		}
		if len(phases) == 0 || phases[len(phases)-1] != kind {
			phases = append(phases, kind)
		}
	}
	t.Logf("player: ok=%v rate=%.2f stalls=%d max stall %.0f ms, phases %v, errors %v", res.OK, res.Rate, res.Stalls, res.MaxStallMS, phases, res.Errors)
	if !res.OK {
		t.Fatalf("playback failed: %s", res.Reason)
	}
	if strings.Join(phases, ",") != "live,slate,live" {
		t.Errorf("playback went through %v, want live, slate, live", phases)
	}
	// hls.js reports a hole of a few AAC frames at the switch into the
	// slate as a non-fatal media notice and seeks over it (max stall
	// above); anything else (a network, parsing or fatal error) is a
	// failure of the edge.
	for _, e := range res.Errors {
		msg, _ := e.(string)
		if strings.Contains(msg, "(fatal)") || !(strings.Contains(msg, "mediaError/bufferStalledError") || strings.Contains(msg, "mediaError/bufferSeekOverHole")) {
			t.Errorf("the player reported an error: %.300s", msg)
		}
	}
	if res.Stalls > 0 || res.MaxStallMS > 1000 {
		t.Errorf("playback stalled: %d stalls, longest %.0f ms", res.Stalls, res.MaxStallMS)
	}
}
