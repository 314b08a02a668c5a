package transcode

import (
	"slices"
	"time"
)

// Pipeline states reported by Status.
const (
	StateIdle        = "idle"        // no publisher session
	StateStarting    = "starting"    // waiting for a keyframe to start ffmpeg
	StateRunning     = "running"     // ffmpeg is encoding
	StateBackoff     = "backoff"     // ffmpeg failed; waiting before a restart
	StateFailed      = "failed"      // ffmpeg cannot run this session (e.g. binary missing); passthrough continues
	StatePassthrough = "passthrough" // no ladder rendition fits the source; passthrough only
	StateStopped     = "stopped"     // Run has returned
)

// Status is a snapshot of a pipeline for dashboards and the API.
type Status struct {
	State       string        `json:"state"`
	PID         int           `json:"pid,omitempty"` // ffmpeg's process (and group) ID while running
	Restarts    int           `json:"restarts"`      // restarts after failures, over the pipeline's life
	LastError   string        `json:"last_error,omitempty"`
	LastErrorAt time.Time     `json:"last_error_at,omitzero"`
	Speed       float64       `json:"speed"`             // media time encoded per wall time (x real time), 0 when unknown
	Latency     time.Duration `json:"latency,omitempty"` // ingest to ffmpeg output of the newest ladder frame
	Renditions  []string      `json:"renditions"`        // renditions with an open Sink
	Dropped     uint64        `json:"dropped"`           // video frames dropped because ffmpeg fell behind
}

// Status returns a snapshot of the pipeline.
func (p *Pipeline) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.status
	s.Renditions = make([]string, 0, len(p.open))
	for name := range p.open {
		s.Renditions = append(s.Renditions, name)
	}
	slices.Sort(s.Renditions)
	return s
}

func (p *Pipeline) setState(state string, pid int) {
	p.mu.Lock()
	p.status.State, p.status.PID = state, pid
	p.mu.Unlock()
	if state == StateRunning {
		p.m.up.Set(1)
	} else {
		p.m.up.Set(0)
	}
}

func (p *Pipeline) setError(msg string) {
	p.mu.Lock()
	p.status.LastError, p.status.LastErrorAt = msg, time.Now()
	p.mu.Unlock()
}

func (p *Pipeline) setOpen(name string, open bool) {
	p.mu.Lock()
	if open {
		p.open[name] = true
	} else {
		delete(p.open, name)
	}
	p.mu.Unlock()
}

func (p *Pipeline) setLatency(d time.Duration) {
	p.mu.Lock()
	p.status.Latency = d
	p.mu.Unlock()
}
