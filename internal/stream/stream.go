package stream

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"onair/internal/media"
)

// ErrBusy is returned by Publish while another publisher session is active.
var ErrBusy = errors.New("stream already has an active publisher")

// ErrClosed is returned once the stream is closed.
var ErrClosed = errors.New("stream closed")

// Config configures a Stream.
type Config struct {
	Grid media.Grid
	// Epoch is the channel's persisted clock origin, zero if none yet.
	Epoch media.Epoch
	// OnEpoch is called (outside any lock) when the stream decides the
	// epoch, so the caller can persist it. Optional.
	OnEpoch func(media.Epoch)
	// ReaderQueue is each reader's unit queue length (default 512).
	ReaderQueue int
	// Now returns the wall clock (default time.Now); tests replace it.
	Now func() time.Time
}

// Session is one publisher session as readers see it.
type Session struct {
	ID      uint64
	Source  string        // where it comes from, e.g. "rtmp 127.0.0.1:50212"
	Video   *media.Track  // nil if the session has no video
	Audio   *media.Track  // nil if the session has no audio
	Mapping media.Mapping // decided at the session's first video keyframe
}

// Stream is one channel's live media.
type Stream struct {
	cfg Config

	mu      sync.Mutex
	epoch   media.Epoch
	active  *Publisher
	readers map[*Reader]struct{}
	lastEnd int64 // end of what has been emitted, channel ticks
	nextID  uint64
	closed  bool
	health  Health
}

// New returns a stream. It starts nothing.
func New(cfg Config) (*Stream, error) {
	if err := cfg.Grid.Validate(); err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	if cfg.ReaderQueue <= 0 {
		cfg.ReaderQueue = 512
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Stream{cfg: cfg, epoch: cfg.Epoch, readers: map[*Reader]struct{}{}}, nil
}

// Publish starts a publisher session with the given tracks. It fails with
// ErrBusy while another session is active.
func (s *Stream) Publish(source string, video, audio *media.Track) (*Publisher, error) {
	if video == nil {
		return nil, errors.New("stream: a session needs a video track")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.active != nil {
		return nil, fmt.Errorf("%w (%s)", ErrBusy, s.active.sess.Source)
	}
	s.nextID++
	p := &Publisher{s: s, sess: &Session{ID: s.nextID, Source: source, Video: cloneTrack(video), Audio: cloneTrack(audio)}}
	s.active = p
	s.health = Health{Active: true, Source: source, Since: s.cfg.Now(), Video: p.sess.Video, Audio: p.sess.Audio}
	return p, nil
}

// Active reports whether a publisher session is active.
func (s *Stream) Active() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active != nil
}

// Close ends the active session, ends every reader, and refuses new
// publishers.
func (s *Stream) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	readers := s.readers
	s.readers = map[*Reader]struct{}{}
	s.mu.Unlock()
	for r := range readers {
		r.close()
	}
}

func cloneTrack(t *media.Track) *media.Track {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// Publisher writes one session's units. Call Close when the session ends.
type Publisher struct {
	s      *Stream
	sess   *Session
	mapped bool
	closed bool
}

// Session returns the session; its Mapping is valid once Mapped is true.
func (p *Publisher) Session() Session {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	return *p.sess
}

// Write maps a unit with source timestamps onto the channel clock and hands
// it to every reader. Units before the session's first video keyframe are
// dropped. It never blocks on readers.
func (p *Publisher) Write(u media.Unit) error {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.closed || s.closed {
		return ErrClosed
	}
	now := s.cfg.Now()
	if u.Wall.IsZero() {
		u.Wall = now
	}
	s.health.observe(&u, now)
	var newEpoch *media.Epoch
	if !p.mapped {
		if u.Kind != media.KindVideo || !u.Key {
			return nil
		}
		if s.epoch.Wall.IsZero() {
			s.epoch = media.Epoch{Wall: u.Wall}
			e := s.epoch
			newEpoch = &e
		}
		p.sess.Mapping = media.NewMapping(s.cfg.Grid, s.epoch, u.DTS, u.Wall, s.lastEnd)
		p.mapped = true
		sess := *p.sess
		for r := range s.readers {
			r.pushSession(&sess)
		}
	}
	u.PTS = p.sess.Mapping.ToChannel(u.PTS)
	u.DTS = p.sess.Mapping.ToChannel(u.DTS)
	if u.Kind == media.KindVideo {
		p.sess.Mapping.Observe(u.DTS, u.Wall)
	}
	if u.DTS < p.sess.Mapping.Anchor && u.Kind == media.KindAudio {
		return nil // audio that precedes the first keyframe
	}
	if u.PTS+1 > s.lastEnd {
		s.lastEnd = u.PTS + 1
	}
	for r := range s.readers {
		r.pushUnit(&u)
	}
	if newEpoch != nil && s.cfg.OnEpoch != nil {
		// Called under the lock by design: persisting must happen before
		// any later session could map against another epoch. OnEpoch must
		// not call back into the stream.
		s.cfg.OnEpoch(*newEpoch)
	}
	return nil
}

// Close ends the session. Readers see an end marker.
func (p *Publisher) Close() {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	if s.active == p {
		s.active = nil
		s.health.Active = false
	}
	if p.mapped {
		for r := range s.readers {
			r.pushEnd(p.sess.ID)
		}
	}
}

// NewReader returns a reader that sees the active session (from its next
// keyframe) and every later one. Close it when done.
func (s *Stream) NewReader() *Reader { return s.NewReaderSize(s.cfg.ReaderQueue) }

// NewReaderSize is NewReader with a queue of n units instead of the
// configured default.
func (s *Stream) NewReaderSize(n int) *Reader {
	if n <= 0 {
		n = s.cfg.ReaderQueue
	}
	r := &Reader{s: s, limit: n, notify: make(chan struct{}, 1), resync: true}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		r.done = true
		return r
	}
	s.readers[r] = struct{}{}
	if p := s.active; p != nil && p.mapped {
		sess := *p.sess
		r.pushSession(&sess)
	}
	return r
}
