package transcode

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"onair/internal/media"
	"onair/internal/stream"
)

// TestMonitorWarnsOncePerMinute drives the speed monitor on a fake clock:
// ffmpeg at half speed while the input keeps real time must give one
// warning after 5 s and then at most one a minute; the gauge shows the
// speed.
func TestMonitorWarnsOncePerMinute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, err := stream.New(stream.Config{Grid: testGrid})
		if err != nil {
			t.Fatal(err)
		}
		var logs logBuffer
		p, err := NewPipeline("c", Config{Grid: testGrid}, st, newFakeOutput(), slog.New(slog.NewTextHandler(&logs, nil)), nil)
		if err != nil {
			t.Fatal(err)
		}
		p.setState(StateRunning, 1)
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Go(func() { p.monitor(ctx) })

		// run feeds both meters for d: input at real time, output at rate.
		start := time.Now()
		run := func(d time.Duration, rate float64) {
			for end := time.Now().Add(d); time.Now().Before(end); {
				time.Sleep(100 * time.Millisecond)
				el := time.Since(start).Seconds()
				p.inSpeed.observe(time.Now(), int64(el*media.Timescale))
				p.outSpeed.observe(time.Now(), int64(rate*el*media.Timescale))
			}
		}
		run(4*time.Second, 0.5)
		if n := logs.count("slower than real time"); n != 0 {
			t.Errorf("%d warnings before 5 s of slowness", n)
		}
		if sp := p.Status().Speed; sp < 0.45 || sp > 0.55 {
			t.Errorf("speed %v, want about 0.5", sp)
		}
		run(146*time.Second, 0.5) // 2.5 minutes in all
		if n := logs.count("slower than real time"); n != 3 {
			t.Errorf("%d warnings in 2.5 minutes of slowness, want 3 (one a minute)\n%s", n, logs.String())
		}
		start = time.Now() // output catches up: real time again
		p.outSpeed.reset()
		p.inSpeed.reset()
		run(3*time.Minute, 1)
		if n := logs.count("slower than real time"); n != 3 {
			t.Errorf("warned while at real time (%d warnings)", n)
		}
		cancel()
		wg.Wait()
	})
}
