package license

import (
	"sync"
	"time"
)

// logLimiter lets through at most one log line per key per interval and
// counts the lines it held back, so a flood of bad requests does not
// flood the log. Safe for concurrent use.
type logLimiter struct {
	every time.Duration // <= 0: every line passes
	now   func() time.Time

	mu    sync.Mutex
	slots map[string]*logSlot
}

// logSlot is one key's state.
type logSlot struct {
	last       time.Time
	suppressed int
}

// allow reports whether a line for key may be written now, and how many
// lines for key were held back since the last one written.
func (l *logLimiter) allow(key string) (ok bool, suppressed int) {
	if l.every <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.slots[key]
	if s == nil {
		if l.slots == nil {
			l.slots = map[string]*logSlot{}
		}
		s = &logSlot{}
		l.slots[key] = s
	} else if now.Sub(s.last) < l.every {
		s.suppressed++
		return false, 0
	}
	s.last = now
	suppressed, s.suppressed = s.suppressed, 0
	return true, suppressed
}
