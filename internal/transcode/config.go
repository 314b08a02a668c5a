package transcode

import (
	"errors"
	"fmt"
	"time"

	"onair/internal/media"
)

// Config configures a Pipeline.
type Config struct {
	// FFmpeg is the ffmpeg binary, a path or a name looked up in PATH.
	// Default "ffmpeg".
	FFmpeg string
	// Ladder is the ABR ladder. nil means media.DefaultLadder(); an empty,
	// non-nil ladder disables encoding. Each session uses
	// media.Fit(Ladder, source), so nothing is upscaled.
	Ladder []media.Rendition
	// Passthrough also publishes the source video untouched as rendition
	// "source".
	Passthrough bool
	// Grid is the channel's segment grid; keyframes are forced on its
	// segment boundaries.
	Grid media.Grid
	// LowLatency selects -tune zerolatency (no lookahead, no frame
	// threads). Otherwise lookahead is kept to 10 frames.
	LowLatency bool
	// Threads per encoder, 0 = ffmpeg's default.
	Threads int
	// RestartMin and RestartMax bound the jittered restart backoff
	// (defaults 500 ms and 10 s).
	RestartMin, RestartMax time.Duration
	// DrainTimeout bounds how long ffmpeg may take to flush its outputs
	// after a session ends before it is stopped (default 5 s).
	DrainTimeout time.Duration
	// QueueFrames is how many video frames may wait for ffmpeg before
	// frames are dropped up to the next keyframe (default 120).
	QueueFrames int
	// AbortOnFailure abandons the unfinished segment of the ladder
	// renditions when ffmpeg fails (Sinks that implement Aborter) instead
	// of closing it short: in standard mode the other pipeline has that
	// segment whole, and one URL must not name two different objects.
	AbortOnFailure bool
	// OnFailure, if set, is called each time ffmpeg fails mid-session,
	// before the restart backoff, with the failure. It must not block.
	OnFailure func(err error)
}

func (c Config) withDefaults() Config {
	if c.FFmpeg == "" {
		c.FFmpeg = "ffmpeg"
	}
	if c.Ladder == nil {
		c.Ladder = media.DefaultLadder()
	}
	if c.RestartMin <= 0 {
		c.RestartMin = 500 * time.Millisecond
	}
	if c.RestartMax <= 0 {
		c.RestartMax = 10 * time.Second
	}
	if c.RestartMax < c.RestartMin {
		c.RestartMax = c.RestartMin
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 5 * time.Second
	}
	if c.QueueFrames <= 0 {
		c.QueueFrames = 120
	}
	return c
}

// Validate reports every problem with the configuration.
func (c Config) Validate() error {
	var errs []error
	if err := c.Grid.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("grid: %w", err))
	}
	if c.Threads < 0 {
		errs = append(errs, fmt.Errorf("threads %d must not be negative", c.Threads))
	}
	seen := map[string]bool{}
	for i, r := range c.Ladder {
		if err := r.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("ladder[%d]: %w", i, err))
		}
		if seen[r.Name] {
			errs = append(errs, fmt.Errorf("ladder[%d]: duplicate name %q", i, r.Name))
		}
		seen[r.Name] = true
	}
	return errors.Join(errs...)
}
