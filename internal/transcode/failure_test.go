package transcode

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"onair/internal/media"
)

// TestPipelineFFmpegErrorIsClear runs a ladder ffmpeg refuses: every
// attempt fails, each failure is reported with the stderr tail and a hint,
// restarts are counted and spaced by the backoff, and the source keeps
// flowing.
func TestPipelineFFmpegErrorIsClear(t *testing.T) {
	c := makeClip(t, 2)
	ladder := []media.Rendition{{Name: "bad", Height: 120, FPS: 15, Bitrate: 100_000, Preset: "no-such-preset"}}
	var logs logBuffer
	h := startPipelineLog(t, Config{Passthrough: true, Ladder: ladder, RestartMin: 20 * time.Millisecond, RestartMax: 40 * time.Millisecond}, newTextLogger(&logs), nil)
	// Paced, so that several keyframes arrive while ffmpeg keeps failing.
	pub, _ := mustPublish(t, h.st, c, 2, nil)
	h.out.waitFor(t, "source output", 10*time.Second, func() bool {
		r := h.out.opens["source"]
		return len(r) == 1 && len(r[0].units) == 60
	})
	pub.Close()
	h.out.waitFor(t, "sinks closed", 10*time.Second, func() bool { return h.out.allClosed("source", "audio") })
	st := h.p.Status()
	if st.Restarts < 2 {
		t.Errorf("restarts = %d, want at least 2 in 1 s of failing", st.Restarts)
	}
	for _, want := range []string{"exit status", "no-such-preset", "hint: the encoder refused its settings"} {
		if !strings.Contains(st.LastError, want) {
			t.Errorf("LastError lacks %q:\n%s", want, st.LastError)
		}
	}
	t.Logf("what an operator sees:\n%s", logs.String())
	if n := logs.count("ffmpeg failed"); n != st.Restarts {
		t.Errorf("%d failure log lines for %d restarts", n, st.Restarts)
	}
	if !strings.Contains(logs.String(), "exit_code=1") || !strings.Contains(logs.String(), "hint=") {
		t.Errorf("failure log lacks exit code or hint:\n%s", logs.String())
	}
	if len(h.out.get("bad")) != 0 {
		t.Error("the failing rendition was opened")
	}
}

// TestRunCancelKillsFFmpeg cancels Run mid-session: Run returns nil,
// ffmpeg is gone and every Sink is closed.
func TestRunCancelKillsFFmpeg(t *testing.T) {
	c := makeClip(t, 2)
	h := startPipeline(t, Config{Passthrough: true})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if pub, _ := publish(t, h.st, c, 1, nil); pub != nil {
			pub.Close()
		}
	}()
	h.out.waitFor(t, "ladder output", 20*time.Second, func() bool {
		r := h.out.opens["240p30"]
		return len(r) == 1 && len(r[0].units) > 10
	})
	pid := h.p.Status().PID
	if pid == 0 {
		t.Fatal("no ffmpeg pid while running")
	}
	h.shutdown(t)
	// Run waited for ffmpeg, so it has been reaped: the pid is gone.
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("ffmpeg %d still exists after Run returned", pid)
	}
	for _, n := range []string{"source", "audio", "240p30", "120p15"} {
		for i, r := range h.out.get(n) {
			if !r.closed {
				t.Errorf("%s[%d] left open after Run returned", n, i)
			}
		}
	}
	if st := h.p.Status(); st.State != StateStopped || len(st.Renditions) != 0 {
		t.Errorf("status after Run %+v", st)
	}
	<-done
}
