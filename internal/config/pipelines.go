package config

import "time"

// Pipelines configures a channel's redundant pipelines and their failover.
type Pipelines struct {
	// Mode is the default for channels created without one: "single" (one
	// pipeline) or "standard" (two output-locked pipelines, A and B, each
	// with its own ffmpeg and storage prefix). Default "single".
	Mode string `yaml:"mode"`
	// AlarmAfter is the manifest age (time since a pipeline's output last
	// grew) at which it is unhealthy; 0 means 2 x the channel's segment
	// duration.
	AlarmAfter time.Duration `yaml:"alarm_after"`
	// AutoFailover lets onair promote the standby pipeline by itself.
	// false leaves promotion to the API and the Alertmanager webhook.
	// Default true.
	AutoFailover bool `yaml:"auto_failover"`
}

// Pipeline modes.
const (
	PipelinesSingle   = "single"
	PipelinesStandard = "standard"
)

// DefaultPipelines returns the Pipelines section's defaults.
func DefaultPipelines() Pipelines {
	return Pipelines{Mode: PipelinesSingle, AutoFailover: true}
}

func (p *Pipelines) validate(bad func(format string, a ...any)) {
	if p.Mode != PipelinesSingle && p.Mode != PipelinesStandard {
		bad("pipelines.mode: %q is not single or standard", p.Mode)
	}
	if p.AlarmAfter < 0 || p.AlarmAfter > time.Minute {
		bad("pipelines.alarm_after: %v out of range [0, 1m]", p.AlarmAfter)
	}
}
