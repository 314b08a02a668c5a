package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/config"
	"onair/internal/control"
	"onair/internal/failover"
	"onair/internal/live"
	"onair/internal/store"
)

// mode is a channel's pipelines mode ("" in records made before modes
// existed: single).
func (m *channels) mode(rec store.Channel) string {
	if rec.Pipelines == config.PipelinesStandard {
		return config.PipelinesStandard
	}
	return config.PipelinesSingle
}

// channelInputs merges a channel's own input settings over the server's
// and validates the result.
func (m *channels) channelInputs(s store.InputSettings) (config.Inputs, error) {
	in := m.cfg.Inputs
	set := func(dst *time.Duration, v time.Duration) {
		if v != 0 {
			*dst = v
		}
	}
	set(&in.LossAfter, s.LossAfter)
	set(&in.ClearAfter, s.ClearAfter)
	set(&in.BlackAfter, s.BlackAfter)
	set(&in.FrozenAfter, s.FrozenAfter)
	set(&in.SilentAfter, s.SilentAfter)
	switch s.Slate {
	case "on":
		in.Slate = true
	case "off":
		in.Slate = false
	}
	if s.SlateText != "" {
		in.SlateText = s.SlateText
	}
	if err := in.Validate(); err != nil {
		return config.Inputs{}, fmt.Errorf("input settings: %w", err)
	}
	return in, nil
}

// inputSettings converts the API's input settings (syntax already checked).
func inputSettings(a control.InputSettings) (store.InputSettings, error) {
	var s store.InputSettings
	var errs []error
	parse := func(name, v string, dst *time.Duration) {
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("inputs.%s: %w", name, err))
		}
		*dst = d
	}
	parse("loss_after", a.LossAfter, &s.LossAfter)
	parse("clear_after", a.ClearAfter, &s.ClearAfter)
	parse("black_after", a.BlackAfter, &s.BlackAfter)
	parse("frozen_after", a.FrozenAfter, &s.FrozenAfter)
	parse("silent_after", a.SilentAfter, &s.SilentAfter)
	if a.Slate != nil {
		s.Slate = map[bool]string{true: "on", false: "off"}[*a.Slate]
	}
	s.SlateText = a.SlateText
	if err := errors.Join(errs...); err != nil {
		return s, fmt.Errorf("%w: %v", control.ErrInvalid, err)
	}
	return s, nil
}

// apiInputSettings is the inverse of inputSettings; nil when nothing is
// overridden.
func apiInputSettings(s store.InputSettings) *control.InputSettings {
	if s == (store.InputSettings{}) {
		return nil
	}
	str := func(d time.Duration) string {
		if d == 0 {
			return ""
		}
		return d.String()
	}
	a := &control.InputSettings{LossAfter: str(s.LossAfter), ClearAfter: str(s.ClearAfter), BlackAfter: str(s.BlackAfter),
		FrozenAfter: str(s.FrozenAfter), SilentAfter: str(s.SilentAfter), SlateText: s.SlateText}
	if s.Slate != "" {
		on := s.Slate == "on"
		a.Slate = &on
	}
	return a
}

// UpdateChannel implements control.Manager. A running channel restarts
// with the new settings.
func (m *channels) UpdateChannel(ctx context.Context, name string, upd control.ChannelUpdate, baseURL string) (control.Channel, error) {
	rec, err := m.st.GetChannel(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return control.Channel{}, fmt.Errorf("%w: channel %s", control.ErrNotFound, name)
	}
	if err != nil {
		return control.Channel{}, err
	}
	if upd.Pipelines != nil && *upd.Pipelines != "" {
		rec.Pipelines = *upd.Pipelines
	}
	accessOnly := upd.Pipelines == nil && upd.Inputs == nil && upd.DRM == nil
	if upd.DRM != nil {
		rec.DRM = storeDRM(upd.DRM)
	}
	if upd.Geo != nil {
		if rec.Geo, err = storeGeo(upd.Geo); err != nil {
			return control.Channel{}, err
		}
	}
	if upd.Access != nil {
		rec.Access = *upd.Access
		if rec.Access == accessPublic {
			rec.Access = ""
		}
	}
	if upd.Inputs != nil {
		if rec.Inputs, err = inputSettings(*upd.Inputs); err != nil {
			return control.Channel{}, err
		}
	}
	if _, err := m.channelInputs(rec.Inputs); err != nil {
		return control.Channel{}, fmt.Errorf("%w: %v", control.ErrInvalid, err)
	}
	if err := m.st.PutChannel(ctx, rec); err != nil {
		return control.Channel{}, err
	}
	if m.access != nil {
		m.access.set(name, rec.Access)
		m.access.setGeo(name, rec.Geo)
	}
	m.mu.Lock()
	_, running := m.running[name]
	m.mu.Unlock()
	if running && !accessOnly { // access applies at once, without a restart
		m.stop(name)
		if err := m.start(ctx, rec); err != nil {
			return control.Channel{}, err
		}
	}
	m.log.Info("channel updated", "channel", name, "pipelines", m.mode(rec), "restarted", running)
	return m.status(rec, baseURL), nil
}

// PipelineAction implements control.Manager.
func (m *channels) PipelineAction(ctx context.Context, name, pipeline, action, baseURL string) (control.Channel, error) {
	rec, err := m.st.GetChannel(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return control.Channel{}, fmt.Errorf("%w: channel %s", control.ErrNotFound, name)
	}
	if err != nil {
		return control.Channel{}, err
	}
	run, err := m.runningChannel(name)
	if err != nil {
		return control.Channel{}, err
	}
	pr := run.pipelineByName(pipeline)
	if pr == nil {
		return control.Channel{}, fmt.Errorf("%w: channel %s has no pipeline %s (pipelines: %s)", control.ErrNotFound, name, pipeline, m.mode(rec))
	}
	switch action {
	case "promote":
		err = m.promote(run, pipeline, failover.CauseManual, fmt.Sprintf("pipeline %s promoted through the API", pipeline))
	case "stop":
		err = m.stopPipeline(run, pr)
	case "start":
		m.startPipeline(run, pr)
	default:
		err = fmt.Errorf("%w: action %q", control.ErrInvalid, action)
	}
	if err != nil {
		return control.Channel{}, err
	}
	m.log.Info("pipeline action", "channel", name, "pipeline", pipeline, "action", action)
	return m.status(rec, baseURL), nil
}

// AlertFailover implements control.Manager.
func (m *channels) AlertFailover(ctx context.Context, name, pipeline, reason string) (string, error) {
	run, err := m.runningChannel(name)
	if err != nil {
		return "", err
	}
	if active := run.ctl.Active(); active != pipeline {
		return fmt.Sprintf("pipeline %s is not active (%s is): nothing to do", pipeline, active), nil
	}
	other := ""
	for _, pr := range run.pipes {
		if pr.name != pipeline {
			other = pr.name
		}
	}
	if other == "" {
		return "", fmt.Errorf("%w: channel %s runs a single pipeline", control.ErrConflict, name)
	}
	if err := m.promote(run, other, failover.CauseAlert, reason); err != nil {
		m.event(store.Event{Kind: "pipeline.failover_refused", Channel: name, Reason: fmt.Sprintf("alert %q: %v", reason, err),
			Data: map[string]any{"from": pipeline, "to": other, "cause": failover.CauseAlert}})
		return "", err
	}
	return fmt.Sprintf("promoted pipeline %s", other), nil
}

// pipelinesStatus is every pipeline of run as the API shows it.
func (m *channels) pipelinesStatus(run *channelRun) []control.Pipeline {
	active := run.ctl.Active()
	hs := m.health(run, time.Now())
	out := make([]control.Pipeline, 0, len(run.pipes))
	for i, pr := range run.pipes {
		pr.mu.Lock()
		p := control.Pipeline{Name: pr.name, Role: "standby", State: pr.state, Detail: pr.detail,
			EncoderDown: pr.encoderDown, StoragePrefix: pr.storagePrefix()}
		pipe := pr.pipe
		pr.mu.Unlock()
		if pr.name == active {
			p.Role = "active"
		}
		if hs[i].HasSession {
			age := hs[i].Age.Seconds()
			p.ManifestAgeSeconds = &age
		}
		if pipe != nil {
			p.Transcoder = transcoderStatus(pipe.Status())
		}
		out = append(out, p)
	}
	return out
}

// pipelineCollector exports every running channel's pipelines, computed
// at scrape time.
type pipelineCollector struct {
	m                          *channels
	age, threshold, active, up *prometheus.Desc
}

func newPipelineCollector(m *channels) *pipelineCollector {
	return &pipelineCollector{m: m,
		age: prometheus.NewDesc("onair_pipeline_manifest_age_seconds",
			"Seconds since the pipeline's slowest rendition of the current session gained a part or segment; absent without a session.",
			[]string{"channel", "pipeline"}, nil),
		threshold: prometheus.NewDesc("onair_pipeline_manifest_age_threshold_seconds",
			"Manifest age beyond which a pipeline is unhealthy (pipelines.alarm_after, default 2 x segment duration).",
			[]string{"channel"}, nil),
		active: prometheus.NewDesc("onair_pipeline_active", "1 for the pipeline that serves viewers, 0 for the standby.",
			[]string{"channel", "pipeline"}, nil),
		up: prometheus.NewDesc("onair_pipeline_up", "1 while the pipeline runs and its encoder is not down.",
			[]string{"channel", "pipeline"}, nil),
	}
}

func (c *pipelineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.age
	ch <- c.threshold
	ch <- c.active
	ch <- c.up
}

func (c *pipelineCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	runs := make([]*channelRun, 0, len(c.m.running))
	for _, run := range c.m.running {
		runs = append(runs, run)
	}
	c.m.mu.Unlock()
	now := time.Now()
	for _, run := range runs {
		name := run.rec.Name
		ch <- prometheus.MustNewConstMetric(c.threshold, prometheus.GaugeValue, run.ctl.Threshold().Seconds(), name)
		active := run.ctl.Active()
		for _, h := range c.m.health(run, now) {
			ch <- prometheus.MustNewConstMetric(c.active, prometheus.GaugeValue, b2f(h.Pipeline == active), name, h.Pipeline)
			ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, b2f(h.Running && h.EncoderDown == ""), name, h.Pipeline)
			if h.HasSession {
				ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, h.Age.Seconds(), name, h.Pipeline)
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// storagePrefixes are the object prefixes of every pipeline a channel
// may have had.
func storagePrefixes(name string) []string {
	return []string{live.PipelineID(name, live.PipelineA) + "/", live.PipelineID(name, live.PipelineB) + "/"}
}

// storeDRM is the stored form of an API DRM setting (nil or "clear":
// clear).
func storeDRM(d *control.DRM) store.DRMSettings {
	if d == nil || d.Scheme == "" || d.Scheme == "clear" {
		return store.DRMSettings{}
	}
	return store.DRMSettings{Scheme: d.Scheme, RotateEvery: d.RotateEvery}
}

// apiDRM is what the API shows of a channel's DRM (nil when clear).
func apiDRM(d store.DRMSettings) *control.DRM {
	if d.Scheme == "" {
		return nil
	}
	return &control.DRM{Scheme: d.Scheme, RotateEvery: d.RotateEvery}
}
