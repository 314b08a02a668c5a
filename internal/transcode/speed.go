package transcode

import (
	"sync"
	"time"
)

// speedWindow is the sliding window over which speed is measured.
const speedWindow = 5 * time.Second

// speedMeter measures how fast media time advances against wall time: 1.0
// is real time. Samples are taken at most every 100 ms.
type speedMeter struct {
	mu      sync.Mutex
	samples []speedSample // oldest first, within speedWindow of the newest
}

type speedSample struct {
	wall  time.Time
	media int64 // 90 kHz ticks
}

func (m *speedMeter) reset() {
	m.mu.Lock()
	m.samples = m.samples[:0]
	m.mu.Unlock()
}

func (m *speedMeter) observe(now time.Time, media int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := len(m.samples); n > 0 {
		last := m.samples[n-1]
		if media < last.media {
			// A timestamp jump back (new session): start over.
			m.samples = m.samples[:0]
		} else if now.Sub(last.wall) < 100*time.Millisecond {
			return
		}
	}
	m.samples = append(m.samples, speedSample{now, media})
	drop := 0
	for drop < len(m.samples)-2 && now.Sub(m.samples[drop+1].wall) >= speedWindow {
		drop++
	}
	m.samples = append(m.samples[:0], m.samples[drop:]...)
}

// speed returns media advance divided by wall time from the oldest sample
// to now (so a stall shows as a falling speed), and whether at least a
// second of history exists.
func (m *speedMeter) speed(now time.Time) (float64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.samples) < 2 {
		return 0, false
	}
	first, last := m.samples[0], m.samples[len(m.samples)-1]
	el := now.Sub(first.wall)
	if el < time.Second {
		return 0, false
	}
	return float64(last.media-first.media) / 90000 / el.Seconds(), true
}
