package stream

import (
	"context"
	"sync"

	"onair/internal/media"
)

// EventType says what a reader Event carries.
type EventType int

// Event types.
const (
	// EventSession starts a publisher session; Session is set.
	EventSession EventType = iota + 1
	// EventUnit carries one channel-clock unit; Unit is set.
	EventUnit
	// EventEnd ends the session with ID SessionID.
	EventEnd
)

// Event is what a Reader returns.
type Event struct {
	Type      EventType
	Session   *Session
	Unit      *media.Unit
	SessionID uint64
}

// Reader is one consumer's cursor into a Stream.
type Reader struct {
	s      *Stream
	limit  int
	notify chan struct{}

	mu      sync.Mutex
	queue   []Event
	units   int  // units in queue
	resync  bool // drop units until the next video keyframe
	dropped uint64
	done    bool
}

// Read returns the next event. It blocks until one is available, ctx ends
// (returning ctx.Err()), or the reader or stream is closed (ErrClosed).
func (r *Reader) Read(ctx context.Context) (Event, error) {
	for {
		r.mu.Lock()
		if len(r.queue) > 0 {
			ev := r.queue[0]
			r.queue[0] = Event{}
			r.queue = r.queue[1:]
			if ev.Type == EventUnit {
				r.units--
			}
			r.mu.Unlock()
			return ev, nil
		}
		done := r.done
		r.mu.Unlock()
		if done {
			return Event{}, ErrClosed
		}
		select {
		case <-ctx.Done():
			return Event{}, ctx.Err()
		case <-r.notify:
		}
	}
}

// Dropped returns how many units were dropped because this reader was slow.
func (r *Reader) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Close detaches the reader from the stream.
func (r *Reader) Close() {
	r.s.mu.Lock()
	delete(r.s.readers, r)
	r.s.mu.Unlock()
	r.close()
}

func (r *Reader) close() {
	r.mu.Lock()
	r.done = true
	r.mu.Unlock()
	r.wake()
}

func (r *Reader) wake() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *Reader) pushSession(sess *Session) {
	r.mu.Lock()
	r.queue = append(r.queue, Event{Type: EventSession, Session: sess})
	r.resync = true
	r.mu.Unlock()
	r.wake()
}

func (r *Reader) pushEnd(id uint64) {
	r.mu.Lock()
	r.queue = append(r.queue, Event{Type: EventEnd, SessionID: id})
	r.mu.Unlock()
	r.wake()
}

func (r *Reader) pushUnit(u *media.Unit) {
	r.mu.Lock()
	if r.done {
		r.mu.Unlock()
		return
	}
	if r.resync {
		if u.Kind != media.KindVideo || !u.Key {
			r.mu.Unlock()
			return
		}
		r.resync = false
	}
	if r.units >= r.limit {
		r.dropped++
		r.resync = true
		// Drop what is queued too: a reader that fell this far behind
		// restarts at the next keyframe rather than play stale media.
		kept := r.queue[:0]
		for _, ev := range r.queue {
			if ev.Type != EventUnit {
				kept = append(kept, ev)
			} else {
				r.dropped++
			}
		}
		r.queue = kept
		r.units = 0
		r.mu.Unlock()
		return
	}
	cp := *u
	r.queue = append(r.queue, Event{Type: EventUnit, Unit: &cp})
	r.units++
	r.mu.Unlock()
	r.wake()
}
