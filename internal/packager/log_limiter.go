package packager

import (
	"sync"
	"time"
)

// logLimiter lets a repeated warning through once per period and counts
// what it held back in between.
type logLimiter struct {
	period time.Duration

	mu   sync.Mutex
	last map[string]time.Time
	held map[string]int
}

func newLogLimiter(period time.Duration) *logLimiter {
	return &logLimiter{period: period, last: map[string]time.Time{}, held: map[string]int{}}
}

// allow reports whether the warning named key may be logged now, and how
// many were suppressed since it was last logged.
func (l *logLimiter) allow(key string, now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, seen := l.last[key]; seen && now.Sub(t) < l.period {
		l.held[key]++
		return false, 0
	}
	l.last[key] = now
	suppressed = l.held[key]
	l.held[key] = 0
	return true, suppressed
}

// reset forgets key, so its next warning is logged at once.
func (l *logLimiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.last, key)
	delete(l.held, key)
}
