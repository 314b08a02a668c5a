package detect

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"time"

	"onair/internal/media"
	"onair/internal/proc"
)

// outcome says why an ffmpeg run ended.
type outcome int

const (
	outcomeCanceled outcome = iota + 1 // Run is returning
	outcomeSession                     // the session ended or changed
	outcomeRebase                      // a timestamp jump: restart at once on a new timeline
	outcomeFailed                      // ffmpeg failed: restart after backoff
)

// stallTimeout bounds one write to ffmpeg's standard input: an ffmpeg
// that stops reading for this long is treated as failed.
const stallTimeout = 5 * time.Second

// supervise runs ffmpeg for each session until ctx ends.
func (d *Detector) supervise(ctx context.Context) {
	backoff := proc.Backoff{Min: d.cfg.RestartMin, Max: d.cfg.RestartMax}
	for ctx.Err() == nil {
		sess := d.session()
		video, audio, ok := d.decodable(sess)
		if !ok || (!video && !audio) {
			// Nothing to decode. A session none of whose checks apply is
			// healthy; no session, or one we cannot check, is unknown.
			if ok && (sess.video != nil || sess.audio != nil) {
				d.setRun(&run{tr: newTracker(0)})
			} else {
				if !ok && sess.gen != 0 && (sess.video != nil || sess.audio != nil) {
					d.log.Warn("content detector cannot decode the input; state unknown", "video", codecOf(sess.video), "audio", codecOf(sess.audio))
				}
				d.setRun(nil)
			}
			d.discardUntil(ctx, sess.gen, nil)
			continue
		}
		res, ranFor, err := d.runOnce(ctx, sess, video, audio)
		d.setRun(nil)
		switch res {
		case outcomeRebase:
			d.log.Info("content detector restarting on a new timeline", "err", err)
		case outcomeFailed:
			d.m.restarts.Inc()
			delay := backoff.Next(ranFor)
			d.log.Warn("content detector ffmpeg failed; state unknown until it restarts",
				"err", err, "ran", ranFor.Round(time.Millisecond), "restart_in", delay.Round(time.Millisecond))
			t := time.NewTimer(delay)
			d.discardUntil(ctx, sess.gen, t.C)
			t.Stop()
		}
	}
}

// runOnce runs one ffmpeg for sess from its next start unit on.
func (d *Detector) runOnce(ctx context.Context, sess session, video, audio bool) (outcome, time.Duration, error) {
	first, res := d.firstUnit(ctx, sess.gen, video)
	if res != 0 {
		return res, 0, nil
	}
	var vt, at *media.Track
	if video {
		vt = sess.video
	}
	if audio {
		at = sess.audio
	}
	r := &run{tr: newTracker(d.cfg.Black), video: video, audio: audio, shift: first.DTS - feedPad}
	p, err := proc.Start(ctx, proc.Config{
		Path:     d.cfg.FFmpeg,
		Args:     buildArgs(d.cfg, video, audio),
		Stdin:    true,
		OnStderr: func(line string) { d.onLine(r, line) },
		Grace:    2 * time.Second,
	})
	if err != nil {
		return outcomeFailed, 0, fmt.Errorf("start ffmpeg: %w", err)
	}
	bw := bufio.NewWriterSize(p.Stdin(), 64<<10)
	f, err := newFeeder(bw, vt, at, d.cfg.Sample == SampleKeyframes, r.shift)
	if err != nil {
		d.stop(p)
		return outcomeFailed, 0, err
	}
	r.walls, r.pid = f.walls, p.Pid()
	d.setRun(r)
	d.log.Debug("content detector ffmpeg started", "pid", p.Pid(), "video", video, "audio", audio, "sample", d.cfg.Sample)
	res, err = d.feed(ctx, sess.gen, p, bw, f, first)
	return res, time.Since(p.StartedAt()), err
}

// firstUnit returns the unit a run starts with: the next video keyframe
// when video is decoded, else the next audio frame. res is nonzero when
// the session changed or ctx ended first.
func (d *Detector) firstUnit(ctx context.Context, gen uint64, video bool) (media.Unit, outcome) {
	usable := func(it item) bool {
		if video {
			return it.u.Kind == media.KindVideo && it.u.Key
		}
		return it.u.Kind == media.KindAudio
	}
	if h := d.held; h != nil {
		d.held = nil
		if h.gen == gen && usable(*h) {
			return h.u, 0
		}
	}
	for {
		select {
		case it := <-d.queue:
			if it.gen > gen {
				d.held = &it
				return media.Unit{}, outcomeSession
			}
			if it.gen == gen && usable(it) {
				return it.u, 0
			}
		case <-d.wake:
			if d.session().gen != gen {
				return media.Unit{}, outcomeSession
			}
		case <-ctx.Done():
			return media.Unit{}, outcomeCanceled
		}
	}
}

// feedInterval is how often queued units are handed to ffmpeg. Batching
// keeps the wakeups of this process and of ffmpeg to about ten a second
// whatever the frame rate, for at most 100 ms more detection delay.
const feedInterval = 100 * time.Millisecond

// feed writes queued units to ffmpeg until the session changes, ctx
// ends, the timeline jumps or the run fails.
func (d *Detector) feed(ctx context.Context, gen uint64, p *proc.Process, bw *bufio.Writer, f *feeder, first media.Unit) (outcome, error) {
	handle := func(err error) (outcome, error) {
		if errors.Is(err, errDiscontinuity) {
			d.stop(p)
			return outcomeRebase, err
		}
		if ctx.Err() != nil {
			return outcomeCanceled, nil
		}
		return d.writeFailed(p, err)
	}
	deadline := func() {
		if dl, ok := p.Stdin().(interface{ SetWriteDeadline(time.Time) error }); ok {
			_ = dl.SetWriteDeadline(time.Now().Add(stallTimeout))
		}
	}
	deadline()
	if err := f.write(&first); err != nil {
		return handle(err)
	}
	tick := time.NewTicker(feedInterval)
	defer tick.Stop()
	for {
		if err := bw.Flush(); err != nil {
			return handle(err)
		}
		select {
		case <-tick.C:
			d.refresh()
			deadline()
			for {
				var it item
				select {
				case it = <-d.queue:
				default:
				}
				if it.gen == 0 {
					break
				}
				if it.gen > gen {
					d.held = &it
					d.stop(p)
					return outcomeSession, nil
				}
				if it.gen < gen {
					continue
				}
				if err := f.write(&it.u); err != nil {
					return handle(err)
				}
			}
		case <-d.wake:
			if d.session().gen != gen {
				d.stop(p)
				return outcomeSession, nil
			}
		case <-p.Done():
			if err := p.Err(); err != nil {
				return outcomeFailed, err
			}
			return outcomeFailed, errors.New("ffmpeg exited with status 0 while fed")
		case <-ctx.Done():
			d.stop(p)
			return outcomeCanceled, nil
		}
	}
}

// writeFailed reports a failed write to ffmpeg. Usually ffmpeg has just
// died: give its exit a moment to be collected so the error names the
// real cause.
func (d *Detector) writeFailed(p *proc.Process, err error) (outcome, error) {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-p.Done():
	case <-t.C:
	}
	if perr := p.Stop(); perr != nil {
		return outcomeFailed, perr
	}
	return outcomeFailed, fmt.Errorf("write to ffmpeg: %w", err)
}

// discardUntil drops queued units until the session changes, ctx ends or
// until fires (nil: never).
func (d *Detector) discardUntil(ctx context.Context, gen uint64, until <-chan time.Time) {
	for {
		select {
		case it := <-d.queue:
			if it.gen > gen {
				d.held = &it
				return
			}
		case <-d.wake:
			if d.session().gen != gen {
				return
			}
		case <-until:
			return
		case <-ctx.Done():
			return
		}
	}
}

func codecOf(t *media.Track) media.Codec {
	if t == nil {
		return ""
	}
	return t.Codec
}

// stop ends a run that is still healthy: its last lines (ffmpeg flushes
// its filters at the end of input) no longer count, and closing its input
// lets ffmpeg exit at once even when it is blocked reading (it restarts a
// read interrupted by SIGTERM).
func (d *Detector) stop(p *proc.Process) {
	d.setRun(nil)
	_ = p.Stdin().Close()
	_ = p.Stop()
}
