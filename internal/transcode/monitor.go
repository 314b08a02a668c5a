package transcode

import (
	"context"
	"time"
)

// Thresholds for the "slower than real time" warning.
const (
	slowSpeed  = 0.97
	slowFor    = 5 * time.Second
	slowRepeat = time.Minute
)

// monitor updates the speed gauge every second and warns, at most once a
// minute, when ffmpeg stays slower than real time while the input keeps
// up, or when frames had to be dropped because ffmpeg fell behind.
func (p *Pipeline) monitor(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var slowSince, lastWarn time.Time
	var lastDropped uint64
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p.mu.Lock()
			running := p.status.State == StateRunning
			dropped := p.status.Dropped
			p.mu.Unlock()
			sp, ok := p.outSpeed.speed(now)
			if !running || !ok {
				sp = 0
			}
			p.m.speed.Set(sp)
			p.mu.Lock()
			p.status.Speed = sp
			p.mu.Unlock()

			in, inOK := p.inSpeed.speed(now)
			if running && ok && inOK && sp < slowSpeed && in >= slowSpeed {
				if slowSince.IsZero() {
					slowSince = now
				}
			} else {
				slowSince = time.Time{}
			}
			newDrops := dropped - lastDropped
			lastDropped = dropped
			behind := !slowSince.IsZero() && now.Sub(slowSince) >= slowFor
			if (behind || newDrops > 0) && (lastWarn.IsZero() || now.Sub(lastWarn) >= slowRepeat) {
				lastWarn = now
				p.log.Warn("transcoder is slower than real time",
					"speed", round2(sp), "input_speed", round2(in), "dropped_frames", dropped,
					"hint", "use fewer or lower renditions, a faster preset (e.g. superfast or ultrafast), or more CPU")
			}
		}
	}
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }
