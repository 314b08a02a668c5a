package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"onair/internal/control"
	"onair/internal/failover"
	"onair/internal/live"
	"onair/internal/origin"
	"onair/internal/proc"
	"onair/internal/store"
	"onair/internal/transcode"
)

// Pipeline run states, as the API shows them.
const (
	pipelineRunning    = "running"
	pipelineStopped    = "stopped"
	pipelineRestarting = "restarting"
)

// failoverEvery is how often a standard channel's controller looks at its
// pipelines (it also looks at once when an encoder fails).
const failoverEvery = 250 * time.Millisecond

// pipelineRun is one of a channel's pipelines: a transcoder reading the
// channel's stream and packaging under the pipeline's own index name and
// storage prefix (live.PipelineID), restarted with backoff when it fails.
type pipelineRun struct {
	name string // live.PipelineA or live.PipelineB
	id   string // live.PipelineID(channel, name)

	mu          sync.Mutex
	pipe        *transcode.Pipeline // the current instance; nil before the first
	cancel      context.CancelFunc  // stops the current instance
	wanted      bool                // false after a stop through the API
	stopped     bool                // the current instance was stopped through the API
	killed      string              // why the controller stopped the current instance
	wake        chan struct{}       // a start through the API (capacity 1)
	state       string
	detail      string
	encoderDown string          // why ffmpeg is down, until it runs again
	downPID     int             // the ffmpeg that failed
	expected    map[string]bool // renditions of the current session
	inSession   bool            // the transcoder had a session at the last look
	since       time.Time       // the current instance or session began: ages count from here at most
}

func newPipelineRun(channel, name string) *pipelineRun {
	return &pipelineRun{name: name, id: live.PipelineID(channel, name), wanted: true,
		wake: make(chan struct{}, 1), state: pipelineRestarting, detail: "starting", expected: map[string]bool{}}
}

// storagePrefix is where the pipeline's objects go.
func (pr *pipelineRun) storagePrefix() string { return pr.id + "/" }

// waitWanted blocks while the pipeline is stopped through the API; false
// when ctx ends first.
func (pr *pipelineRun) waitWanted(ctx context.Context) bool {
	for {
		pr.mu.Lock()
		wanted := pr.wanted
		pr.mu.Unlock()
		if wanted {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-pr.wake:
		}
	}
}

// transcoder returns the current transcoder, nil before the first.
func (pr *pipelineRun) transcoder() *transcode.Pipeline {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.pipe
}

// group is a standard channel's origin group state.
type group struct {
	mu      sync.Mutex
	changed chan struct{}
}

// regroup tells the origin that the active pipeline changed.
func (g *group) regroup() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.changed)
	g.changed = make(chan struct{})
}

func (g *group) watch() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.changed
}

// runPipeline runs pr's transcoder until ctx ends: again after a failure
// (with backoff), not while it is stopped through the API.
func (m *channels) runPipeline(ctx context.Context, run *channelRun, pr *pipelineRun, tcfg transcode.Config) {
	log := m.log.With("channel", run.rec.Name, "pipeline", pr.name)
	backoff := proc.Backoff{Min: time.Second, Max: 30 * time.Second}
	for {
		if !pr.waitWanted(ctx) {
			return
		}
		cfg := tcfg
		cfg.OnFailure = func(err error) { m.encoderFailed(run, pr, err) }
		began := time.Now()
		pipe, err := transcode.NewPipeline(pr.id, cfg, run.stream, packagerOutput{p: m.pkg, protect: run.protect}, log, m.reg)
		if err == nil {
			pctx, cancel := context.WithCancel(ctx)
			pr.mu.Lock()
			pr.pipe, pr.cancel, pr.state, pr.detail, pr.killed = pipe, cancel, pipelineRunning, "", ""
			clear(pr.expected) // a new instance's renditions have not aged
			pr.since = time.Now()
			if !pr.wanted { // stopped while this instance was being made
				cancel()
			}
			pr.mu.Unlock()
			err = pipe.Run(pctx)
			cancel()
		}
		pr.mu.Lock()
		wanted := pr.wanted && !pr.stopped // a stop then a start is no failure
		pr.stopped = false
		if err == nil && pr.killed != "" {
			err = errors.New(pr.killed)
		}
		switch {
		case ctx.Err() != nil:
			pr.state, pr.detail = pipelineStopped, "the channel stopped"
		case !pr.wanted:
			pr.state, pr.detail = pipelineStopped, "stopped through the API"
		}
		pr.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if !wanted {
			continue
		}
		if err == nil {
			err = errors.New("the transcoder ended while the channel runs")
		}
		delay := backoff.Next(time.Since(began))
		reason := fmt.Sprintf("pipeline %s failed (%v); restarting in %v", pr.name, err, delay.Round(time.Millisecond))
		pr.mu.Lock()
		pr.state, pr.detail = pipelineRestarting, err.Error()
		pr.mu.Unlock()
		log.Error("pipeline failed; restarting", "err", err, "restart_in", delay)
		m.event(store.Event{Kind: "pipeline.restart", Channel: run.rec.Name, Reason: reason,
			Data: map[string]any{"pipeline": pr.name, "restart_in_seconds": delay.Seconds()}})
		run.pokeController()
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// encoderFailed is transcode.Config.OnFailure: it marks the encoder down
// and makes the controller look at once.
func (m *channels) encoderFailed(run *channelRun, pr *pipelineRun, err error) {
	pid := 0
	if p := pr.transcoder(); p != nil {
		pid = p.Status().PID
	}
	msg := firstLine(err.Error())
	pr.mu.Lock()
	pr.encoderDown, pr.downPID = msg, pid
	pr.mu.Unlock()
	m.event(store.Event{Kind: "pipeline.encoder_down", Channel: run.rec.Name,
		Reason: fmt.Sprintf("pipeline %s's ffmpeg failed: %s", pr.name, msg), Data: map[string]any{"pipeline": pr.name, "pid": pid}})
	run.pokeController()
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

// health observes every pipeline of run for the failover controller.
func (m *channels) health(run *channelRun, now time.Time) []failover.Health {
	out := make([]failover.Health, 0, len(run.pipes))
	for _, pr := range run.pipes {
		pr.mu.Lock()
		h := failover.Health{Pipeline: pr.name, Running: pr.state == pipelineRunning, Detail: pr.detail}
		pipe := pr.pipe
		var st transcode.Status
		if pipe != nil {
			st = pipe.Status()
		}
		if pr.encoderDown != "" && st.State == transcode.StateRunning && st.PID != pr.downPID {
			pr.encoderDown = "" // ffmpeg runs again
		}
		h.EncoderDown = pr.encoderDown
		switch st.State {
		case "", transcode.StateIdle, transcode.StateStopped:
			clear(pr.expected) // no session
			pr.inSession = false
		default:
			if !pr.inSession {
				pr.inSession, pr.since = true, now
			}
			for _, r := range st.Renditions {
				pr.expected[r] = true
			}
		}
		if ich, ok := m.index.Lookup(pr.id); ok && h.Running {
			for r := range pr.expected {
				rend, ok := ich.Lookup(r)
				if !ok || rend.LastChange().IsZero() {
					continue
				}
				h.HasSession = true
				last := rend.LastChange()
				if last.Before(pr.since) {
					last = pr.since // output from before this instance or session
				}
				h.Age = max(h.Age, now.Sub(last))
			}
		}
		pr.mu.Unlock()
		out = append(out, h)
	}
	return out
}

// superviseFailover runs a standard channel's failover controller until
// ctx ends.
func (m *channels) superviseFailover(ctx context.Context, run *channelRun) {
	t := time.NewTicker(failoverEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-run.poke:
		}
		now := time.Now()
		hs := m.health(run, now)
		if m.cfg.Pipelines.AutoFailover {
			if d, ok := run.ctl.Observe(now, hs); ok {
				m.applyFailover(run, d, now)
			}
		}
		m.restartStuck(run, hs)
	}
}

// restartStuck restarts a pipeline whose output stopped for twice the
// alarm threshold while another pipeline's advances (so the input is not
// to blame): a hung ffmpeg does not exit by itself.
func (m *channels) restartStuck(run *channelRun, hs []failover.Health) {
	limit := 2 * run.ctl.Threshold()
	healthy := func(h failover.Health) bool {
		return h.Running && h.EncoderDown == "" && h.HasSession && h.Age <= run.ctl.Threshold()
	}
	for i, h := range hs {
		if !h.Running || !h.HasSession || h.Age <= limit {
			continue
		}
		other := false
		for j, o := range hs {
			other = other || (j != i && healthy(o))
		}
		if !other {
			continue
		}
		pr := run.pipes[i]
		pr.mu.Lock()
		cancel := pr.cancel
		already := pr.killed != ""
		if !already {
			pr.killed = fmt.Sprintf("no output for %.1f s while pipeline %s's advances: stuck", h.Age.Seconds(), otherPipeline(hs, i))
		}
		pr.mu.Unlock()
		if !already && cancel != nil {
			m.log.Error("pipeline stuck; restarting it", "channel", run.rec.Name, "pipeline", pr.name, "age", h.Age)
			cancel()
		}
	}
}

// otherPipeline names the first pipeline of hs other than hs[i].
func otherPipeline(hs []failover.Health, i int) string {
	for j, h := range hs {
		if j != i {
			return h.Pipeline
		}
	}
	return ""
}

// applyFailover repoints the origin group and reports the decision.
func (m *channels) applyFailover(run *channelRun, d failover.Decision, at time.Time) {
	run.grp.regroup()
	m.failovers.WithLabelValues(run.rec.Name, d.Cause).Inc()
	m.log.Warn("pipeline failover", "channel", run.rec.Name, "from", d.From, "to", d.To, "cause", d.Cause, "reason", d.Reason)
	m.event(store.Event{At: at, Kind: "pipeline.failover", Channel: run.rec.Name, Reason: d.Reason,
		Data: map[string]any{"from": d.From, "to": d.To, "cause": d.Cause}})
}

// event publishes e in the background (the state store may be slow).
func (m *channels) event(e store.Event) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	if e.Source == "" {
		e.Source = "serve"
	}
	m.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := m.st.PublishEvent(ctx, e); err != nil {
			m.log.Warn("event not published", "kind", e.Kind, "channel", e.Channel, "err", err)
		}
	})
}

// Group is origin.Config.Group: the channel's pipelines, active first.
func (m *channels) Group(channel string) origin.Group {
	m.mu.Lock()
	run := m.running[channel]
	m.mu.Unlock()
	if run == nil || len(run.pipes) == 1 {
		return origin.Group{Pipelines: []string{live.PipelineA}}
	}
	active := run.ctl.Active()
	order := []string{active}
	for _, pr := range run.pipes {
		if pr.name != active {
			order = append(order, pr.name)
		}
	}
	return origin.Group{Pipelines: order, Changed: run.grp.watch()}
}

// runningChannel returns the running channel name, or a conflict error.
func (m *channels) runningChannel(name string) (*channelRun, error) {
	m.mu.Lock()
	run := m.running[name]
	m.mu.Unlock()
	if run == nil {
		return nil, fmt.Errorf("%w: channel %s is not running", control.ErrConflict, name)
	}
	return run, nil
}

// promote makes pipeline active for cause, under the controller's rules.
func (m *channels) promote(run *channelRun, pipeline, cause, reason string) error {
	if len(run.pipes) == 1 {
		return fmt.Errorf("%w: channel %s runs a single pipeline", control.ErrConflict, run.rec.Name)
	}
	now := time.Now()
	d, err := run.ctl.Promote(now, pipeline, cause, reason, m.health(run, now))
	if err != nil {
		return fmt.Errorf("%w: %v", control.ErrConflict, err)
	}
	m.applyFailover(run, d, now)
	return nil
}

// stopPipeline stops one pipeline through the API; the active one hands
// over to the other first, and is refused when the other cannot serve.
func (m *channels) stopPipeline(run *channelRun, pr *pipelineRun) error {
	if len(run.pipes) == 1 {
		return fmt.Errorf("%w: channel %s runs a single pipeline; stop the channel instead", control.ErrConflict, run.rec.Name)
	}
	if run.ctl.Active() == pr.name {
		other := run.pipes[0].name
		if other == pr.name {
			other = run.pipes[1].name
		}
		reason := fmt.Sprintf("pipeline %s is being stopped through the API", pr.name)
		if err := m.promote(run, other, failover.CauseStopped, reason); err != nil {
			return err
		}
	}
	pr.mu.Lock()
	pr.wanted, pr.stopped = false, true
	pr.state, pr.detail = pipelineStopped, "stopped through the API"
	cancel := pr.cancel
	pr.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	m.event(store.Event{Kind: "pipeline.stopped", Channel: run.rec.Name,
		Reason: fmt.Sprintf("pipeline %s stopped through the API", pr.name), Data: map[string]any{"pipeline": pr.name}})
	return nil
}

// startPipeline starts a pipeline stopped through the API.
func (m *channels) startPipeline(run *channelRun, pr *pipelineRun) {
	pr.mu.Lock()
	was := pr.wanted
	pr.wanted = true
	pr.mu.Unlock()
	if was {
		return
	}
	select {
	case pr.wake <- struct{}{}:
	default:
	}
	m.event(store.Event{Kind: "pipeline.started", Channel: run.rec.Name,
		Reason: fmt.Sprintf("pipeline %s started through the API", pr.name), Data: map[string]any{"pipeline": pr.name}})
}

// pipelineByName finds a pipeline of run.
func (run *channelRun) pipelineByName(name string) *pipelineRun {
	for _, pr := range run.pipes {
		if pr.name == name {
			return pr
		}
	}
	return nil
}

// active returns the pipeline that serves viewers.
func (run *channelRun) active() *pipelineRun {
	if pr := run.pipelineByName(run.ctl.Active()); pr != nil {
		return pr
	}
	return run.pipes[0]
}

// pokeController makes the failover controller look now.
func (run *channelRun) pokeController() {
	select {
	case run.poke <- struct{}{}:
	default:
	}
}

// newController makes a channel's controller: threshold from the config
// or 2 x the segment duration.
func (m *channels) newController(segment time.Duration) (*failover.Controller, error) {
	threshold := m.cfg.Pipelines.AlarmAfter
	if threshold == 0 {
		threshold = 2 * segment
	}
	return failover.New(failover.Config{Threshold: threshold}, live.PipelineA)
}
