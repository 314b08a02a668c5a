package session

import (
	"strings"
	"sync"
	"time"
)

// touchCache remembers, per session, when this process last refreshed it
// (and whether it is revoked), so Touch writes at most once per window.
// Bounded: when full it drops stale entries, and everything if that is
// not enough (the cost is one extra write per session). Safe for
// concurrent use.
type touchCache struct {
	every time.Duration
	max   int

	mu sync.Mutex
	m  map[string]touchEntry
}

type touchEntry struct {
	at      time.Time
	revoked bool // revocation is final: Touch answers ErrRevoked from memory
}

func newTouchCache(every time.Duration, max int) *touchCache {
	return &touchCache{every: every, max: max, m: make(map[string]touchEntry)}
}

// claim reports whether key is due for a refresh at now and, if it is,
// records now so concurrent callers skip it; revoked reports a remembered
// revocation.
func (c *touchCache) claim(key string, now time.Time) (due, revoked bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	switch {
	case ok && e.revoked:
		return false, true
	case ok && now.Sub(e.at) < c.every && !now.Before(e.at):
		return false, false
	}
	c.makeRoom(now)
	c.m[key] = touchEntry{at: now}
	return true, false
}

// makeRoom keeps the map under max. Lock held.
func (c *touchCache) makeRoom(now time.Time) {
	if len(c.m) < c.max {
		return
	}
	for k, e := range c.m {
		if !e.revoked && now.Sub(e.at) >= c.every {
			delete(c.m, k)
		}
	}
	if len(c.m) > c.max*3/4 {
		clear(c.m)
	}
}

// revoked records that key is revoked.
func (c *touchCache) revoked(key string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok {
		c.makeRoom(now)
	}
	c.m[key] = touchEntry{at: now, revoked: true}
}

// forget drops key (after a failed refresh, so the next Touch retries).
func (c *touchCache) forget(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

// forgetPrefix drops every key starting with prefix (a deleted channel).
func (c *touchCache) forgetPrefix(prefix string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if strings.HasPrefix(k, prefix) {
			delete(c.m, k)
		}
	}
}

// len is the number of remembered sessions.
func (c *touchCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
