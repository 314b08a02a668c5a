package transcode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"onair/internal/media"
	"onair/internal/proc"
)

// outcome says why an encoder run ended.
type outcome int

const (
	outcomeEnd      outcome = iota + 1 // the session ended: drain and stop
	outcomeFailed                      // ffmpeg or a pipe failed: restart
	outcomeCanceled                    // Run is returning: stop now
)

// supervise runs ffmpeg for the session, restarting it with backoff when
// it fails, until the session ends or ctx is canceled.
func (s *session) supervise(ctx context.Context) {
	defer close(s.done)
	p := s.p
	backoff := proc.Backoff{Min: p.cfg.RestartMin, Max: p.cfg.RestartMax}
	for {
		p.setState(StateStarting, 0)
		first, ok := s.nextKey(ctx)
		if !ok {
			return
		}
		e, err := s.startEncoder(ctx, first)
		var res outcome
		if err == nil {
			p.setState(StateRunning, e.proc.Pid())
			p.outSpeed.reset()
			res = e.feed(ctx, first)
			switch res {
			case outcomeEnd:
				e.finish(p.cfg.DrainTimeout)
				return
			case outcomeCanceled:
				e.kill()
				return
			}
			err = e.stopFailed()
		}
		ranFor := time.Duration(0)
		if e != nil {
			ranFor = time.Since(e.proc.StartedAt())
		}
		delay := backoff.Next(ranFor)
		s.reportFailure(err, ranFor, delay)
		p.setState(StateBackoff, 0)
		if !s.discardFor(ctx, delay) {
			return
		}
	}
}

// reportFailure logs one clear error for a failed ffmpeg run and counts
// the restart.
func (s *session) reportFailure(err error, ranFor, delay time.Duration) {
	p := s.p
	p.m.restarts.Inc()
	p.mu.Lock()
	p.status.Restarts++
	restarts := p.status.Restarts
	p.mu.Unlock()
	hint := failureHint(err)
	attrs := []any{"seq", s.info.ID, "ran", ranFor.Round(time.Millisecond), "restart_in", delay.Round(time.Millisecond), "restarts", restarts}
	var ee *proc.ExitError
	if errors.As(err, &ee) {
		if ee.Signal != "" {
			attrs = append(attrs, "signal", ee.Signal)
		} else {
			attrs = append(attrs, "exit_code", ee.Code)
		}
		attrs = append(attrs, "stderr", ee.Tail)
	} else {
		attrs = append(attrs, "err", err)
	}
	if hint != "" {
		attrs = append(attrs, "hint", hint)
	}
	p.log.Error("ffmpeg failed; ladder renditions closed, restarting", attrs...)
	msg := err.Error()
	if hint != "" {
		msg += "\nhint: " + hint
	}
	p.setError(msg)
	if p.cfg.OnFailure != nil {
		p.cfg.OnFailure(err)
	}
}

// nextKey returns the next video keyframe from the queue, discarding
// frames before it. ok is false when the session ended or ctx is done.
func (s *session) nextKey(ctx context.Context) (*media.Unit, bool) {
	for {
		select {
		case u, ok := <-s.queue:
			if !ok {
				return nil, false
			}
			if u.Key {
				return u, true
			}
		case <-ctx.Done():
			return nil, false
		}
	}
}

// discardFor drops queued frames for d (the backoff). It returns false
// when the session ended or ctx is done meanwhile.
func (s *session) discardFor(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case _, ok := <-s.queue:
			if !ok {
				return false
			}
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
}

// errUnexpectedExit is the cause when ffmpeg exits with status 0 while
// the session still runs.
var errUnexpectedExit = errors.New("ffmpeg exited with status 0 before the session ended")

// stopFailed stops a failed run and returns the failure's cause: ffmpeg's
// own exit when it died by itself, otherwise the pipe error that made the
// pipeline stop it.
func (e *encoder) stopFailed() error {
	exitedAlone := closed(e.proc.Done())
	perr := e.proc.Stop()
	e.waitReaders()
	ferr := e.failure()
	switch {
	case exitedAlone && perr != nil:
		return perr
	case exitedAlone:
		return errUnexpectedExit
	case ferr != nil:
		return fmt.Errorf("%w (ffmpeg stopped; stderr tail:\n%s)", ferr, e.proc.Tail())
	case perr != nil:
		return perr
	default:
		return errUnexpectedExit
	}
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
