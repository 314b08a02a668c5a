package stream

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"onair/internal/media"
)

// ErrBusy is returned by Publish while another session is active on the
// same input.
var ErrBusy = errors.New("stream already has an active publisher")

// ErrClosed is returned once the stream is closed.
var ErrClosed = errors.New("stream closed")

// Input names one of a channel's inputs.
type Input string

// Inputs of a channel.
const (
	Primary Input = "primary"
	Backup  Input = "backup"
	// SlateInput is the stream's own stand-by picture, played while both
	// inputs are lost.
	SlateInput Input = "slate"
)

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
	// LossAfter is how long an input may deliver no frame before it is
	// lost. Default 1 s.
	LossAfter time.Duration
	// ClearAfter is how long the primary must deliver again before the
	// stream switches back to it from the backup. Default 10 s.
	ClearAfter time.Duration
	// Slate returns the loop to play while both inputs are lost, shaped
	// like video and audio (the last session's tracks); nil, or a nil
	// loop, means no slate: readers see the session end instead.
	Slate func(video, audio *media.Track) *SlateLoop
	// OnSwitch is called by Tick, outside any lock, for every change of
	// the active input. Optional.
	OnSwitch func(Switch)
	// Tap sees every unit of every input, active or not, with source
	// timestamps, before selection (content checks feed on it). It is
	// called under the stream's lock and must not block. Optional.
	Tap func(in Input, u *media.Unit)
	// OnInput is called, outside any lock, when an input's publisher
	// session starts (video set) or ends (video nil). Optional.
	OnInput func(in Input, video, audio *media.Track)
}

// SlateLoop is a stand-by picture as units: Frames (a keyframe first,
// timestamps from 0) repeat every Period ticks; Silence is one AAC frame
// of 1024 samples, repeated.
type SlateLoop struct {
	Video   *media.Track
	Audio   *media.Track // nil: no sound
	Frames  []media.Unit
	Period  int64
	Silence []byte
}

// Switch is a change of the active input.
type Switch struct {
	From, To Input // "" for none
	Reason   string
	At       time.Time
}

// Session is one run of continuous media as readers see it: an input's
// publisher session, possibly continued by the other input when its
// tracks are the same.
type Session struct {
	ID      uint64
	Source  string        // where it comes from, e.g. "rtmp 127.0.0.1:50212"
	Input   Input         // the input that started it
	Video   *media.Track  // nil if the session has no video
	Audio   *media.Track  // nil if the session has no audio
	Mapping media.Mapping // decided at the session's first video keyframe
}

// Stream is one channel's live media.
type Stream struct {
	cfg Config

	mu        sync.Mutex
	epoch     media.Epoch
	inputs    map[Input]*Publisher // connected publishers
	active    *Publisher           // whose units readers get; nil: none (or the slate)
	pending   Input                // switching to this input at its next keyframe
	reason    string               // why pending
	manual    Input                // an operator's choice; "" automatic
	cur       *Session             // what readers see; nil between sessions
	slate     *slatePlayer         // non-nil while the slate plays
	switches  []Switch             // to report from Tick
	shown     Input                // the input readers last got media from
	readers   map[*Reader]struct{}
	lastEnd   int64     // end of what has been emitted, channel ticks
	lastInput time.Time // when an input's unit was last emitted
	nextID    uint64
	closed    bool
	health    map[Input]*Health
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
	if cfg.LossAfter <= 0 {
		cfg.LossAfter = time.Second
	}
	if cfg.ClearAfter <= 0 {
		cfg.ClearAfter = 10 * time.Second
	}
	return &Stream{cfg: cfg, epoch: cfg.Epoch, readers: map[*Reader]struct{}{},
		inputs: map[Input]*Publisher{}, health: map[Input]*Health{}}, nil
}

// Publish starts a publisher session on the primary input.
func (s *Stream) Publish(source string, video, audio *media.Track) (*Publisher, error) {
	return s.PublishInput(Primary, source, video, audio)
}

// PublishInput starts a publisher session on input (Primary or Backup)
// with the given tracks. It fails with ErrBusy while another session is
// active on that input.
func (s *Stream) PublishInput(input Input, source string, video, audio *media.Track) (*Publisher, error) {
	if video == nil {
		return nil, errors.New("stream: a session needs a video track")
	}
	if input != Primary && input != Backup {
		return nil, fmt.Errorf("stream: unknown input %q", input)
	}
	p, err := s.publish(input, source, video, audio)
	if err != nil {
		return nil, err
	}
	if s.cfg.OnInput != nil {
		s.cfg.OnInput(input, cloneTrack(video), cloneTrack(audio))
	}
	return p, nil
}

func (s *Stream) publish(input Input, source string, video, audio *media.Track) (*Publisher, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if p := s.inputs[input]; p != nil {
		return nil, fmt.Errorf("%w (%s)", ErrBusy, p.source)
	}
	now := s.cfg.Now()
	p := &Publisher{s: s, input: input, source: source, video: cloneTrack(video), audio: cloneTrack(audio), since: now}
	s.inputs[input] = p
	s.health[input] = &Health{Active: true, Source: source, Since: now, Video: p.video, Audio: p.audio}
	return p, nil
}

// Active reports whether any input has a publisher session.
func (s *Stream) Active() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.inputs) > 0
}

// InputActive reports whether input has a publisher session.
func (s *Stream) InputActive(input Input) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inputs[input] != nil
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

// Publisher writes one input's session. Call Close when the session ends.
type Publisher struct {
	s            *Stream
	input        Input
	source       string
	video, audio *media.Track
	mapping      media.Mapping // valid while mapped
	mapped       bool          // its units reach readers
	sess         *Session      // the session it last fed, nil before
	closed       bool
	since        time.Time // start of its current run of good delivery
	bad          string    // why its content is unusable ("" fine), from SetContent
	last         time.Time // its newest frame
}

// Session returns the session this publisher last fed, with its own
// mapping; before it ever fed one, a session with its tracks only.
func (p *Publisher) Session() Session {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if p.sess != nil {
		sess := *p.sess
		sess.Mapping = p.mapping
		return sess
	}
	return Session{Source: p.source, Input: p.input, Video: p.video, Audio: p.audio}
}

// Write maps a unit with source timestamps onto the channel clock and hands
// it to every reader when this publisher's input is the active one. A
// standby input's units are dropped (its health is still tracked). It
// never blocks on readers.
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
	if !p.last.IsZero() && now.Sub(p.last) > s.cfg.LossAfter {
		p.since = now // a new run of delivery after a loss
	}
	p.last = now
	if h := s.health[p.input]; h != nil {
		h.observe(&u, now)
	}
	if s.cfg.Tap != nil {
		s.cfg.Tap(p.input, &u)
	}
	if s.active != p {
		if u.Kind != media.KindVideo || !u.Key || !s.shouldTake(p, now) {
			return nil
		}
		newEpoch := s.activate(p, &u, now)
		if newEpoch != nil && s.cfg.OnEpoch != nil {
			// Called under the lock by design: persisting must happen
			// before any later session could map against another epoch.
			// OnEpoch must not call back into the stream.
			s.cfg.OnEpoch(*newEpoch)
		}
	}
	s.lastInput = now
	s.emit(&u, p.mapping)
	return nil
}

// shouldTake reports whether p, not active, becomes active at its
// keyframe now. The caller holds s.mu.
func (s *Stream) shouldTake(p *Publisher, now time.Time) bool {
	switch {
	case s.pending == p.input:
		return true
	case s.manual != "" && s.manual != p.input:
		return false
	case s.active == nil:
		// Nothing (or the slate) plays: the primary always; the backup
		// unless the primary delivers or has just connected (it gets
		// LossAfter to send its first keyframe: both inputs usually
		// connect together).
		prim := s.inputs[Primary]
		return p.input == Primary || prim == nil ||
			(!s.delivering(prim, now) && now.Sub(prim.since) > s.cfg.LossAfter)
	}
	return false
}

// delivering reports whether p's newest frame is within LossAfter.
func (s *Stream) delivering(p *Publisher, now time.Time) bool {
	return p != nil && !p.last.IsZero() && now.Sub(p.last) <= s.cfg.LossAfter
}

// activate makes p the active input at its keyframe u: it continues the
// current session when the tracks are the same (no discontinuity
// downstream), else ends it and starts one. It returns a newly decided
// epoch. The caller holds s.mu.
func (s *Stream) activate(p *Publisher, u *media.Unit, now time.Time) *media.Epoch {
	var newEpoch *media.Epoch
	from := s.shown
	s.stopSlate()
	if prev := s.active; prev != nil {
		prev.mapped = false
	}
	s.active, s.pending = p, ""
	if s.epoch.Wall.IsZero() {
		s.epoch = media.Epoch{Wall: u.Wall}
		e := s.epoch
		newEpoch = &e
	}
	if s.cur != nil && s.cur.Input != SlateInput && sameTracks(s.cur, p.video, p.audio) {
		p.mapping = s.continueMapping(u)
	} else {
		s.endSession()
		s.nextID++
		p.mapping = media.NewMapping(s.cfg.Grid, s.epoch, u.DTS, u.Wall, s.lastEnd)
		s.cur = &Session{ID: s.nextID, Source: p.source, Input: p.input, Video: p.video, Audio: p.audio, Mapping: p.mapping}
		sess := *s.cur
		for r := range s.readers {
			r.pushSession(&sess)
		}
	}
	p.mapped = true
	cp := *s.cur
	p.sess = &cp
	s.shown = p.input
	if from != p.input {
		reason := s.reason
		if reason == "" {
			reason = "first input to deliver"
		}
		s.switches = append(s.switches, Switch{From: from, To: p.input, Reason: reason, At: now})
	}
	s.reason = ""
	return newEpoch
}

// continueMapping maps a new input's keyframe u into the current session
// without going back and without jumping more than a segment: when the
// new input's timestamps run in step with the old one's (one encode sent
// to both inputs), its frames keep their exact channel times; otherwise
// the keyframe lands where the wall clock puts it, within one segment of
// what was emitted. The caller holds s.mu.
func (s *Stream) continueMapping(u *media.Unit) media.Mapping {
	m := s.cur.Mapping
	if s.active != nil && s.active.mapped {
		m = s.active.mapping
	}
	d := s.cfg.Grid.SegmentTicks()
	lo, hi := s.lastEnd, s.lastEnd+d
	wall := m.Anchor + media.Ticks(u.Wall.Sub(m.WallAt(m.Anchor)))
	wall = min(max(wall, lo), hi)
	at := wall
	if same := u.DTS + m.Offset; same >= lo && same <= hi && abs(same-wall) < d/2 {
		at = same
	}
	m.Offset = at - u.DTS
	return m
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// sameTracks reports whether a session's tracks equal video and audio in
// everything a decoder or packager sees.
func sameTracks(sess *Session, video, audio *media.Track) bool {
	eq := func(a, b *media.Track) bool {
		if a == nil || b == nil {
			return a == b
		}
		return a.Codec == b.Codec && a.Width == b.Width && a.Height == b.Height &&
			string(a.VPS) == string(b.VPS) && string(a.SPS) == string(b.SPS) && string(a.PPS) == string(b.PPS) &&
			a.SampleRate == b.SampleRate && a.Channels == b.Channels && string(a.AudioConfig) == string(b.AudioConfig)
	}
	return eq(sess.Video, video) && eq(sess.Audio, audio)
}

// emit maps u with m and hands it to readers. The caller holds s.mu.
func (s *Stream) emit(u *media.Unit, m media.Mapping) {
	u.PTS = m.ToChannel(u.PTS)
	u.DTS = m.ToChannel(u.DTS)
	if u.Kind == media.KindVideo {
		m.Observe(u.DTS, u.Wall)
	}
	if u.DTS < m.Anchor && u.Kind == media.KindAudio {
		return // audio that precedes the first keyframe
	}
	if u.PTS+1 > s.lastEnd {
		s.lastEnd = u.PTS + 1
	}
	for r := range s.readers {
		r.pushUnit(u)
	}
}

// endSession ends what readers see. The caller holds s.mu.
func (s *Stream) endSession() {
	if s.cur == nil {
		return
	}
	for r := range s.readers {
		r.pushEnd(s.cur.ID)
	}
	s.cur = nil
}

// Close ends the publisher's session. If it was the active input, the
// other input takes over at its next keyframe (or the slate, on the next
// Tick after LossAfter).
func (p *Publisher) Close() {
	if p.close() && p.s.cfg.OnInput != nil {
		p.s.cfg.OnInput(p.input, nil, nil)
	}
}

// close does Close's work under the lock; it reports whether p was its
// input's publisher.
func (p *Publisher) close() (wasInput bool) {
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.closed {
		return false
	}
	p.closed = true
	if s.inputs[p.input] == p {
		wasInput = true
		delete(s.inputs, p.input)
		if h := s.health[p.input]; h != nil {
			h.Active = false
		}
	}
	if s.active != p {
		return wasInput
	}
	s.active = nil
	other := s.inputs[otherInput(p.input)]
	if other != nil && s.delivering(other, s.cfg.Now()) {
		s.pending, s.reason = other.input, fmt.Sprintf("%s input closed", p.input)
		return wasInput
	}
	if s.cfg.Slate == nil {
		s.endSession()
		s.shown = ""
	}
	return wasInput
}

func otherInput(in Input) Input {
	if in == Primary {
		return Backup
	}
	return Primary
}

// NewReader returns a reader that sees the current session (from its
// next keyframe) and every later one. Close it when done.
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
	if s.cur != nil {
		sess := *s.cur
		r.pushSession(&sess)
	}
	return r
}
