package edge

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// fill is one in-flight upstream fetch shared by every request for its
// key: the body grows as the upstream streams it and each waiter reads it
// with its own cursor, woken by changed (the shape of go-livepeer's
// trickle server). Bytes below len(body) are never written again, so a
// waiter may read body[:n] outside the lock once it has seen n.
type fill struct {
	target     target
	stale      *object // expired copy that may be served if the fill fails before its head; may be nil
	background bool    // a stale-while-revalidate refresh: never canceled for lack of waiters
	cancel     context.CancelFunc

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every change below
	headDone  bool
	status    int
	header    http.Header   // forwarded headers, without Age and Content-Length
	age       time.Duration // the upstream's Age
	size      int64         // Content-Length, -1 when unknown
	body      []byte
	done      bool
	err       error // why the fill failed (set with done); nil on success
	waiters   int
	served    bool // a waiter got all it asked for (a HEAD, a range): finish into the cache
	abandoned bool // every waiter went away unserved and the fetch was canceled
}

func newFill(t target, stale *object, background bool, cancel context.CancelFunc) *fill {
	return &fill{target: t, stale: stale, background: background, cancel: cancel, changed: make(chan struct{}), size: -1}
}

// broadcast wakes every waiter. Called with mu held.
func (f *fill) broadcast() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// join adds a waiter; it fails when the fill was abandoned, and the
// caller then starts a new one.
func (f *fill) join() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.abandoned {
		return false
	}
	f.waiters++
	return true
}

// leave removes a waiter; served says it got all it asked for. When the
// last waiter leaves an unfinished foreground fill and none was served
// (every viewer went away), the upstream request is canceled; otherwise
// the fill finishes into the cache.
func (f *fill) leave(served bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waiters--
	f.served = f.served || served
	if f.waiters == 0 && !f.done && !f.background && !f.served {
		f.abandoned = true
		f.cancel()
	}
}

// setHead publishes the response head.
func (f *fill) setHead(status int, header http.Header, age time.Duration, size int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.header, f.age, f.size = status, header, age, size
	if size > 0 && size <= 64<<20 {
		f.body = make([]byte, 0, size)
	}
	f.headDone = true
	f.broadcast()
}

// write appends a chunk of the body.
func (f *fill) write(p []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.body = append(f.body, p...)
	f.broadcast()
}

// finish ends the fill: err nil means the body is complete.
func (f *fill) finish(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done, f.err = true, err
	f.broadcast()
}

// fillState is what a waiter sees at one moment.
type fillState struct {
	headDone bool
	status   int
	header   http.Header
	age      time.Duration
	size     int64
	chunk    []byte // body bytes from the waiter's cursor on
	done     bool
	err      error
	changed  <-chan struct{}
}

// state returns the fill as seen from cursor.
func (f *fill) state(cursor int64) fillState {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := fillState{
		headDone: f.headDone, status: f.status, header: f.header, age: f.age, size: f.size,
		done: f.done, err: f.err, changed: f.changed,
	}
	if cursor < int64(len(f.body)) {
		s.chunk = f.body[cursor:len(f.body):len(f.body)]
	}
	return s
}

// wait returns the state at cursor once it differs from before: more
// bytes, the head, or the end; or ctx's error.
func (f *fill) wait(ctx context.Context, cursor int64, until func(fillState) bool) (fillState, error) {
	for {
		s := f.state(cursor)
		if until(s) {
			return s, nil
		}
		select {
		case <-s.changed:
		case <-ctx.Done():
			return s, ctx.Err()
		}
	}
}
