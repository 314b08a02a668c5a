package config

import (
	"errors"
	"fmt"
	"time"
)

// Inputs configures every channel's primary and backup inputs and the
// slate played while both are lost.
type Inputs struct {
	// LossAfter is how long the active input may deliver no frame before
	// the channel fails over to the other (or to the slate). Default 1s.
	LossAfter time.Duration `yaml:"loss_after"`
	// ClearAfter is how long the primary must deliver again before the
	// channel switches back to it from the backup. Default 10s.
	ClearAfter time.Duration `yaml:"clear_after"`
	// SlateImage is the picture played while both inputs are lost; ""
	// plays a card with SlateText.
	SlateImage string `yaml:"slate_image"`
	// SlateText is the card's text. Default "Please stand by".
	SlateText string `yaml:"slate_text"`
	// Slate false plays nothing while both inputs are lost (the
	// playlists stop). Default true.
	Slate bool `yaml:"slate"`
	// BlackAfter, FrozenAfter and SilentAfter make an input whose video
	// stays black or frozen, or whose audio stays silent, that long give
	// way to the other input (ffmpeg's blackdetect, freezedetect and
	// silencedetect on its keyframes and audio, one light ffmpeg per
	// input). 0 (default) turns a check off.
	BlackAfter  time.Duration `yaml:"black_after"`
	FrozenAfter time.Duration `yaml:"frozen_after"`
	SilentAfter time.Duration `yaml:"silent_after"`
}

// ContentChecks reports whether any content check is on.
func (in *Inputs) ContentChecks() bool {
	return in.BlackAfter > 0 || in.FrozenAfter > 0 || in.SilentAfter > 0
}

// DefaultInputs returns the Inputs section's defaults.
func DefaultInputs() Inputs {
	return Inputs{LossAfter: time.Second, ClearAfter: 10 * time.Second, SlateText: "Please stand by", Slate: true}
}

// Validate checks the ranges of every field (for a channel's own input
// settings merged over the server's).
func (in Inputs) Validate() error {
	var errs []error
	in.validate(func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) })
	return errors.Join(errs...)
}

func (in *Inputs) validate(bad func(format string, a ...any)) {
	if in.LossAfter < 100*time.Millisecond || in.LossAfter > time.Minute {
		bad("inputs.loss_after: %v out of range [100ms, 1m]", in.LossAfter)
	}
	if in.ClearAfter < 0 || in.ClearAfter > time.Hour {
		bad("inputs.clear_after: %v out of range [0, 1h]", in.ClearAfter)
	}
	for _, c := range []struct {
		name string
		d    time.Duration
	}{{"black_after", in.BlackAfter}, {"frozen_after", in.FrozenAfter}, {"silent_after", in.SilentAfter}} {
		if c.d < 0 || c.d > time.Hour {
			bad("inputs.%s: %v out of range [0, 1h]", c.name, c.d)
		}
	}
}

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

// Signing configures the key `onair serve` signs playback tokens with.
type Signing struct {
	// KeyFile is an Ed25519 private key (PKCS #8 PEM, as `openssl genpkey
	// -algorithm ed25519` writes). "" uses {data_dir}/signing/ed25519.pem,
	// made (with its public key beside it) on first start.
	KeyFile string `yaml:"key_file"`
	// KeyID names the key in tokens, for rotation. Default "k1".
	KeyID string `yaml:"key_id"`
	// TokenTTL is the lifetime of tokens issued without one. Default 1h.
	TokenTTL time.Duration `yaml:"token_ttl"`
}

// DefaultSigning returns the Signing section's defaults.
func DefaultSigning() Signing { return Signing{KeyID: "k1", TokenTTL: time.Hour} }

func (s *Signing) validate(bad func(format string, a ...any)) {
	if s.KeyID == "" || len(s.KeyID) > 32 {
		bad("signing.key_id: %q must be 1-32 characters", s.KeyID)
	}
	if s.TokenTTL < time.Second || s.TokenTTL > 30*24*time.Hour {
		bad("signing.token_ttl: %v out of range [1s, 720h]", s.TokenTTL)
	}
}
