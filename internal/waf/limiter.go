package waf

import (
	"math"
	"sync"
	"time"
)

// limiter is a table of token buckets, one per client key (a hash of an
// address or a token), bounded to max entries: a full table drops its
// least recently used entry, and sweep drops the entries that have been
// idle long enough to be full again (dropping those changes nothing: a
// new entry starts full). The table is split into shards, each with its
// own lock and list, so concurrent requests rarely wait on each other.
// Safe for concurrent use.
type limiter struct {
	rate   float64 // tokens per second
	burst  float64
	shards []limiterShard
}

// limiterShard is one lock's share of the table. Its entries form a list
// from most recently used (head) to least (tail).
type limiterShard struct {
	mu      sync.Mutex
	max     int
	m       map[uint64]*bucket
	head    *bucket
	tail    *bucket
	evicted int64 // entries dropped because the shard was full
}

// bucket is one client's token bucket and list links.
type bucket struct {
	key        uint64
	tokens     float64
	last       time.Time
	limited    bool // the last request was refused: the next refusal is not news
	prev, next *bucket
}

// maxRetry bounds a refusal's wait (a very low rate would overflow it).
const maxRetry = 24 * time.Hour

// verdict is the outcome of one take.
type verdict struct {
	ok    bool
	retry time.Duration // until a token is back, when !ok
	first bool          // the first refusal since the client was last admitted
}

// newLimiter returns a table for l with room for max clients in total.
// Small tables get one shard so the bound is exact.
func newLimiter(l Limit, max int) *limiter {
	n := 16
	if max < 64 {
		n = 1
	}
	lim := &limiter{rate: l.Rate, burst: float64(l.Burst), shards: make([]limiterShard, n)}
	per := (max + n - 1) / n
	for i := range lim.shards {
		lim.shards[i].max = per
		lim.shards[i].m = make(map[uint64]*bucket)
	}
	return lim
}

// take spends one token of key's bucket at now.
func (l *limiter) take(key uint64, now time.Time) verdict {
	s := &l.shards[key%uint64(len(l.shards))]
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.m[key]
	if b == nil {
		b = s.add(key)
		b.tokens, b.last = l.burst, now
	} else {
		s.touch(b)
		l.refill(b, now)
	}
	if b.tokens >= 1 {
		b.tokens--
		b.limited = false
		return verdict{ok: true}
	}
	v := verdict{first: !b.limited}
	b.limited = true
	v.retry = time.Duration(math.Ceil(min((1-b.tokens)/l.rate, maxRetry.Seconds()) * float64(time.Second)))
	return v
}

// refill adds the tokens earned since b.last, up to the burst. A clock
// that went back earns nothing.
func (l *limiter) refill(b *bucket, now time.Time) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(l.burst, b.tokens+d.Seconds()*l.rate)
		b.last = now
	}
}

// sweep drops the entries that are full at now and returns how many.
func (l *limiter) sweep(now time.Time) int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		for b := s.tail; b != nil; {
			prev := b.prev
			l.refill(b, now)
			if b.tokens >= l.burst {
				s.remove(b)
				delete(s.m, b.key)
				n++
			}
			b = prev
		}
		s.mu.Unlock()
	}
	return n
}

// len returns the number of tracked clients.
func (l *limiter) len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

// evictions returns how many entries full shards have dropped.
func (l *limiter) evictions() int64 {
	var n int64
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += s.evicted
		s.mu.Unlock()
	}
	return n
}

// add makes an entry for key at the head, reusing the tail's when the
// shard is full. Called with s.mu held.
func (s *limiterShard) add(key uint64) *bucket {
	var b *bucket
	if len(s.m) >= s.max && s.tail != nil {
		b = s.tail
		s.remove(b)
		delete(s.m, b.key)
		s.evicted++
		*b = bucket{}
	} else {
		b = new(bucket)
	}
	b.key = key
	s.m[key] = b
	s.pushFront(b)
	return b
}

// touch moves b to the head. Called with s.mu held.
func (s *limiterShard) touch(b *bucket) {
	if s.head == b {
		return
	}
	s.remove(b)
	s.pushFront(b)
}

func (s *limiterShard) pushFront(b *bucket) {
	b.prev, b.next = nil, s.head
	if s.head != nil {
		s.head.prev = b
	}
	s.head = b
	if s.tail == nil {
		s.tail = b
	}
}

func (s *limiterShard) remove(b *bucket) {
	if b.prev != nil {
		b.prev.next = b.next
	} else {
		s.head = b.next
	}
	if b.next != nil {
		b.next.prev = b.prev
	} else {
		s.tail = b.prev
	}
	b.prev, b.next = nil, nil
}
