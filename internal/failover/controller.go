package failover

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Causes of a Decision, for metrics labels and event data.
const (
	CauseManifestAge = "manifest_age" // the active pipeline's output stopped advancing
	CauseEncoderDown = "encoder_down" // its ffmpeg exited or is restarting
	CauseStopped     = "stopped"      // the pipeline is not running
	CauseManual      = "manual"       // an operator promoted the standby
	CauseAlert       = "alert"        // an Alertmanager webhook asked
)

// ErrRefused is returned by Promote when the promotion would not help:
// the target is unknown, already active, or unhealthy.
var ErrRefused = errors.New("promotion refused")

// Health is one pipeline as observed at one moment.
type Health struct {
	Pipeline string
	// Running is false while the pipeline is stopped or restarting;
	// Detail says why.
	Running bool
	Detail  string
	// EncoderDown, when not empty, says why the pipeline's ffmpeg is not
	// encoding (it exited, it waits to restart).
	EncoderDown string
	// HasSession is true while the pipeline packages a publisher session;
	// only then is Age meaningful.
	HasSession bool
	Age        time.Duration
}

// Config configures a Controller.
type Config struct {
	// Threshold is the manifest age beyond which a pipeline is unhealthy
	// (onair: 2 x the segment duration).
	Threshold time.Duration
	// Hold is the least time between two automatic failovers (default
	// Threshold), so two unhealthy pipelines do not flap.
	Hold time.Duration
}

// Decision is a change of the active pipeline.
type Decision struct {
	From, To string
	Cause    string // one of the Cause constants
	Reason   string // in words, for the event log
}

// Controller holds a channel's active pipeline. Create it with New.
type Controller struct {
	cfg Config

	mu       sync.Mutex
	active   string
	switched time.Time
}

// New returns a Controller with active as the active pipeline.
func New(cfg Config, active string) (*Controller, error) {
	if cfg.Threshold <= 0 {
		return nil, fmt.Errorf("failover: threshold %v must be positive", cfg.Threshold)
	}
	if cfg.Hold <= 0 {
		cfg.Hold = cfg.Threshold
	}
	return &Controller{cfg: cfg, active: active}, nil
}

// Threshold returns the manifest-age threshold.
func (c *Controller) Threshold() time.Duration { return c.cfg.Threshold }

// Active returns the pipeline that serves viewers.
func (c *Controller) Active() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.active
}

// Observe looks at every pipeline's health and returns a Decision (and
// true) when the active pipeline is unhealthy and a standby is healthy.
// The Decision has already taken effect: Active returns its To.
func (c *Controller) Observe(now time.Time, pipelines []Health) (Decision, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	active, ok := find(pipelines, c.active)
	if !ok {
		return Decision{}, false
	}
	cause, reason := c.problem(active)
	if cause == "" || (!c.switched.IsZero() && now.Sub(c.switched) < c.cfg.Hold) {
		return Decision{}, false
	}
	for _, h := range pipelines {
		if h.Pipeline != c.active && c.eligible(h, active) {
			return c.switchLocked(now, h.Pipeline, cause, reason), true
		}
	}
	return Decision{}, false
}

// Promote makes pipeline the active one for cause (CauseManual or
// CauseAlert) with the caller's reason. It refuses (ErrRefused) a
// pipeline that is unknown, already active, or not healthy enough to
// serve: not running, encoder down, or stale while the active one is not.
func (c *Controller) Promote(now time.Time, pipeline, cause, reason string, pipelines []Health) (Decision, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	target, ok := find(pipelines, pipeline)
	switch {
	case !ok:
		return Decision{}, fmt.Errorf("%w: no pipeline %q", ErrRefused, pipeline)
	case pipeline == c.active:
		return Decision{}, fmt.Errorf("%w: pipeline %s is already active", ErrRefused, pipeline)
	}
	active, _ := find(pipelines, c.active)
	if !c.eligible(target, active) {
		_, why := c.problem(target)
		if why == "" {
			why = "it has no output while the active pipeline has"
		}
		return Decision{}, fmt.Errorf("%w: pipeline %s cannot serve: %s", ErrRefused, pipeline, why)
	}
	return c.switchLocked(now, pipeline, cause, reason), nil
}

func (c *Controller) switchLocked(now time.Time, to, cause, reason string) Decision {
	d := Decision{From: c.active, To: to, Cause: cause, Reason: reason}
	c.active, c.switched = to, now
	return d
}

// problem says why h is unhealthy; cause "" means it is healthy.
func (c *Controller) problem(h Health) (cause, reason string) {
	switch {
	case !h.Running:
		reason = fmt.Sprintf("pipeline %s is not running", h.Pipeline)
		if h.Detail != "" {
			reason += ": " + h.Detail
		}
		return CauseStopped, reason
	case h.EncoderDown != "":
		return CauseEncoderDown, fmt.Sprintf("pipeline %s's encoder is down: %s", h.Pipeline, h.EncoderDown)
	case h.HasSession && h.Age > c.cfg.Threshold:
		return CauseManifestAge, fmt.Sprintf("pipeline %s's manifest age %.1f s is over the %.1f s threshold",
			h.Pipeline, h.Age.Seconds(), c.cfg.Threshold.Seconds())
	}
	return "", ""
}

// eligible reports whether standby may take over from active: it is
// healthy, and it has output unless active has none either.
func (c *Controller) eligible(standby, active Health) bool {
	if cause, _ := c.problem(standby); cause != "" {
		return false
	}
	return standby.HasSession || !active.HasSession || !active.Running
}

func find(hs []Health, name string) (Health, bool) {
	i := slices.IndexFunc(hs, func(h Health) bool { return h.Pipeline == name })
	if i < 0 {
		return Health{}, false
	}
	return hs[i], true
}
