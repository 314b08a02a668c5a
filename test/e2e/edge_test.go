package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startEdge runs `onair edge` in front of upstreams and waits for it.
func startEdge(t *testing.T, upstreams ...string) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp"))
	args := []string{"edge", "--listen", addr}
	for _, u := range upstreams {
		args = append(args, "--upstream", u)
	}
	logs := &syncBuffer{}
	cmd := exec.Command(binPath, args...)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("onair edge did not exit cleanly: %v", err)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Error("onair edge did not stop on SIGTERM")
		}
		if t.Failed() {
			t.Logf("edge logs (%d bytes):\n%s", len(logs.String()), tail(logs.String(), 40))
		}
	})
	base := "http://" + addr
	waitFor(t, 10*time.Second, "edge /readyz", func() bool {
		code, _, _ := get(base + "/readyz")
		return code == 200
	})
	return base
}

// Many viewers through `onair edge`: the origin serves each segment once,
// and ffmpeg decodes the channel through the edge.
func TestEdgeInFrontOfOrigin(t *testing.T) {
	s := startServer(t, "")
	ch := s.createChannel(t, "edged", false)
	publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey), "320x240", 30, 0)
	waitSegment(t, s.base, "edged", []string{"160p30", "240p30"}, 2, 40*time.Second)
	edgeBase := startEdge(t, s.base)

	segURL := func(n int64) string { return fmt.Sprintf("%s/live/edged/160p30/%d.m4s", edgeBase, n) }
	originSegments := func() float64 {
		return counter(t, s.base, `onair_origin_requests_total\{code="200",kind="segment"\}`)
	}
	before := originSegments()
	// 200 viewers fetch the same three segments at once, each with its own
	// viewer token (stripped from the cache key).
	var wg sync.WaitGroup
	errs := make(chan string, 600)
	for v := 0; v < 200; v++ {
		wg.Add(1)
		go func(v int) {
			defer wg.Done()
			for n := int64(0); n < 3; n++ {
				code, _, b := get(fmt.Sprintf("%s?token=viewer%d", segURL(n), v))
				if code != 200 || len(b) == 0 {
					errs <- fmt.Sprintf("viewer %d segment %d: %d", v, n, code)
				}
			}
		}(v)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if got := originSegments() - before; got != 3 {
		t.Errorf("origin served %v segment requests for 600 viewer requests of 3 segments, want 3", got)
	}
	decode(t, edgeBase+"/live/edged/master.m3u8", "-map", "0")
	if hits := counter(t, edgeBase, `onair_edge_requests_total\{cache="hit"\}`); hits == 0 {
		t.Error("edge reports no cache hits")
	}
}
