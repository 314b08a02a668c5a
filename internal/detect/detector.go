package detect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/media"
)

// Deps are a Detector's collaborators; every field is optional.
type Deps struct {
	// Log receives ffmpeg failures (warn) and ffmpeg's other output
	// (debug). Default: discard.
	Log *slog.Logger
	// Registerer receives the metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// OnChange is called with the new State whenever Known or a condition
	// changes (not for every frame). It is called from one goroutine
	// owned by Run, in order; it should return quickly (a slow callback
	// delays later notifications, never detection).
	OnChange func(State)
}

// Detector watches one input's content. Create it with New, run it with
// Run, and tell it about the input with Start, Write and End.
type Detector struct {
	cfg      Config
	log      *slog.Logger
	m        *metrics
	onChange func(State)

	queue   chan item
	wake    chan struct{} // a session started or ended
	notify  chan struct{} // pending has states
	gen     atomic.Uint64 // generation of the active session, 0 when none
	resync  atomic.Bool   // drop video until the next keyframe
	dropped atomic.Uint64
	running atomic.Bool

	// held is a unit of a newer session that ended the previous run; the
	// next run starts with it. Only Run's goroutine uses it.
	held *item

	mu      sync.Mutex
	sess    session
	run     *run
	state   State   // last published
	pending []State // for OnChange
}

// item is a queued unit and the session it belongs to.
type item struct {
	gen uint64
	u   media.Unit
}

// session is what Start (or End) declared.
type session struct {
	gen          uint64
	video, audio *media.Track
}

// run is one ffmpeg run as the state sees it. Guarded by Detector.mu;
// shift and walls are set before the run is published.
type run struct {
	tr           *tracker
	video, audio bool // which chains ffmpeg runs
	shift        int64
	walls        [3]*wallMap
	pid          int
	// When the last frame of each chain was reported.
	lastVideo, lastAudio time.Time
}

// maxPending bounds the states waiting for OnChange; beyond it the oldest
// are dropped (the newest state is always delivered).
const maxPending = 64

// New validates cfg (after defaults) and allocates a Detector. It starts
// nothing.
func New(cfg Config, deps Deps) (*Detector, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	log := deps.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(deps.Registerer, cfg.Labels)
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	return &Detector{
		cfg:      cfg,
		log:      log,
		m:        m,
		onChange: deps.OnChange,
		queue:    make(chan item, cfg.Queue),
		wake:     make(chan struct{}, 1),
		notify:   make(chan struct{}, 1),
	}, nil
}

// Start begins a session of the input with the given tracks (either may
// be nil). Units written from now on belong to it; the previous session,
// if any, ends. The Detector waits for the first video keyframe (or, for
// audio alone, the first audio frame) before it starts ffmpeg.
//
// A check whose track is absent is not made (a session without audio is
// never Silent); a track that is present but cannot be decoded (not
// H.264/H.265 or AAC, or a broken AudioSpecificConfig) keeps the state
// unknown. A session none of whose checks apply is Known and Healthy.
func (d *Detector) Start(video, audio *media.Track) { d.setSession(video, audio) }

// End ends the current session: ffmpeg stops and the state is unknown
// until the next Start.
func (d *Detector) End() { d.setSession(nil, nil) }

func (d *Detector) setSession(video, audio *media.Track) {
	d.mu.Lock()
	d.sess = session{gen: d.sess.gen + 1, video: video, audio: audio}
	if video == nil && audio == nil {
		d.gen.Store(0)
	} else {
		d.gen.Store(d.sess.gen)
	}
	d.resync.Store(true)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Write queues a unit of the current session. It never blocks: when the
// queue is full the unit is dropped and counted (a dropped video frame
// makes later ones wait for the next keyframe). Units the Detector does
// not need (non-key video frames with SampleKeyframes, tracks whose
// checks are off, anything outside a session) are ignored. A zero Wall
// is taken as now.
func (d *Detector) Write(u media.Unit) {
	gen := d.gen.Load()
	if gen == 0 {
		return
	}
	switch u.Kind {
	case media.KindVideo:
		if !d.cfg.videoChecks() || (d.cfg.Sample == SampleKeyframes && !u.Key) {
			return
		}
		if u.Key {
			d.resync.Store(false)
		} else if d.resync.Load() {
			return
		}
	case media.KindAudio:
		if d.cfg.Silent <= 0 {
			return
		}
	default:
		return
	}
	if u.Wall.IsZero() {
		u.Wall = time.Now()
	}
	select {
	case d.queue <- item{gen: gen, u: u}:
	default:
		d.dropped.Add(1)
		d.m.dropped.Inc()
		if u.Kind == media.KindVideo {
			d.resync.Store(true)
		}
	}
}

// Dropped returns how many units were dropped because the queue was full.
func (d *Detector) Dropped() uint64 { return d.dropped.Load() }

// State returns the current state.
func (d *Detector) State() State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.computeLocked(time.Now())
}

// Run runs ffmpeg for each session, restarting it with backoff when it
// fails, until ctx ends. It returns nil on a clean cancel and an error
// only when called twice.
func (d *Detector) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("detect: Run called twice")
	}
	stopNotify := make(chan struct{})
	notifyDone := make(chan struct{})
	go func() {
		defer close(notifyDone)
		d.notifyLoop(stopNotify)
	}()
	defer func() {
		d.setRun(nil)
		close(stopNotify)
		<-notifyDone
	}()
	d.supervise(ctx)
	return nil
}

// notifyLoop calls OnChange with the pending states until stop is
// closed, then delivers what is left.
func (d *Detector) notifyLoop(stop <-chan struct{}) {
	for {
		var stopping bool
		select {
		case <-d.notify:
		case <-stop:
			stopping = true
		}
		d.mu.Lock()
		batch := d.pending
		d.pending = nil
		d.mu.Unlock()
		for _, s := range batch {
			d.onChange(s)
		}
		if stopping {
			return
		}
	}
}

func (d *Detector) session() session {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sess
}

// setRun makes r the run the state is computed from (nil: none).
func (d *Detector) setRun(r *run) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.run = r
	d.publishLocked(time.Now())
}

// refresh republishes the state, so a run going stale is noticed.
func (d *Detector) refresh() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.publishLocked(time.Now())
}

// onLine handles one line of a run's standard error.
func (d *Detector) onLine(r *run, line string) {
	l := parseLine(line)
	if l.Kind == lineOther {
		d.log.Debug("ffmpeg", "line", line)
		return
	}
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.run != r {
		return
	}
	done, changed := r.tr.feed(l)
	switch done {
	case media.KindVideo:
		r.lastVideo = now
	case media.KindAudio:
		r.lastAudio = now
	}
	if changed || (done != 0 && !d.state.Known) {
		d.publishLocked(now)
	}
}

// publishLocked recomputes the state and, when Known or a condition
// changed, updates the metrics and queues it for OnChange.
func (d *Detector) publishLocked(now time.Time) {
	s := d.computeLocked(now)
	prev := d.state
	d.state = s
	if sameConditions(s, prev) {
		return
	}
	d.m.set(s)
	if d.onChange == nil {
		return
	}
	if len(d.pending) >= maxPending {
		d.pending = append(d.pending[:0], d.pending[1:]...)
	}
	d.pending = append(d.pending, s)
	select {
	case d.notify <- struct{}{}:
	default:
	}
}

// sameConditions compares two states ignoring At.
func sameConditions(a, b State) bool {
	a.At, b.At = Mark{}, Mark{}
	return a == b
}

func (d *Detector) computeLocked(now time.Time) State {
	r := d.run
	if r == nil {
		return State{}
	}
	stale := func(on bool, last time.Time) bool {
		return on && (last.IsZero() || now.Sub(last) > d.cfg.Stale)
	}
	if stale(r.video, r.lastVideo) || stale(r.audio, r.lastAudio) {
		return State{}
	}
	s := State{Known: true}
	if c := r.tr.cond[condBlack]; c.active {
		s.Black, s.BlackSince = true, r.mark(media.KindVideo, c.since)
	}
	if c := r.tr.cond[condFrozen]; c.active {
		s.Frozen, s.FrozenSince = true, r.mark(media.KindVideo, c.since)
	}
	if c := r.tr.cond[condSilent]; c.active {
		s.Silent, s.SilentSince = true, r.mark(media.KindAudio, c.since)
	}
	switch {
	case r.video && r.tr.seenVideo:
		s.At = r.mark(media.KindVideo, r.tr.lastVideo)
	case r.audio && r.tr.seenAudio:
		s.At = r.mark(media.KindAudio, r.tr.lastAudio)
	}
	s.Healthy = !s.Black && !s.Frozen && !s.Silent
	return s
}

// mark converts a time on the fed timeline to a Mark.
func (r *run) mark(k media.Kind, fed int64) Mark {
	pts := fed + r.shift
	m := Mark{PTS: pts}
	if w := r.walls[k]; w != nil {
		m.Wall = w.get(pts)
	}
	return m
}

// decodable reports which tracks of sess the Detector decodes. ok is
// false when a track that a configured check needs is present but cannot
// be decoded (an unsupported codec, a broken AudioSpecificConfig): the
// state is then unknown. A track that is absent is not checked.
func (d *Detector) decodable(sess session) (video, audio, ok bool) {
	ok = true
	if v := sess.video; v != nil && d.cfg.videoChecks() {
		video = v.Codec == media.CodecH264 || v.Codec == media.CodecH265
		ok = ok && video
	}
	if a := sess.audio; a != nil && d.cfg.Silent > 0 {
		var conf mpeg4audio.AudioSpecificConfig
		audio = a.Codec == media.CodecAAC && conf.Unmarshal(a.AudioConfig) == nil
		ok = ok && audio
	}
	return video, audio, ok
}

// ffmpegPID returns the pid of the running ffmpeg, 0 when none (tests).
func (d *Detector) ffmpegPID() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.run == nil {
		return 0
	}
	return d.run.pid
}
