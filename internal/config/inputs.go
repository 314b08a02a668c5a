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
