package detect

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Sample says which video frames the Detector decodes.
type Sample string

// Sampling modes.
const (
	// SampleKeyframes decodes video keyframes only (the default): for a
	// 720p30 H.264 source at 4 Mb/s with 2 s GOPs the Detector's ffmpeg
	// uses about 0.5% of one core, against about 7-8% for every frame
	// (BenchmarkFFmpegCPU). Conditions are then seen at keyframe
	// resolution: set and cleared up to one GOP later than with
	// SampleAll, and a freeze is judged between keyframes. It suits
	// sources whose GOP is short next to the configured durations (1-2 s
	// against 2 s); Stale must exceed the GOP.
	SampleKeyframes Sample = "keyframes"
	// SampleAll decodes every video frame: frame-exact blackdetect and
	// freezedetect semantics, at full H.264/H.265 decoding cost.
	SampleAll Sample = "all"
)

// Defaults for Config fields left zero. The thresholds are ffmpeg's own
// defaults for blackdetect, freezedetect and silencedetect.
const (
	DefaultBlackPixelThreshold = 0.10  // blackdetect pix_th
	DefaultBlackPictureRatio   = 0.98  // blackdetect pic_th
	DefaultFreezeNoise         = 0.001 // freezedetect n, -60 dB
	DefaultSilenceNoiseDB      = -60.0 // silencedetect n
	DefaultStale               = 10 * time.Second
	DefaultQueue               = 1024
)

// Config configures a Detector.
type Config struct {
	// Black, Frozen and Silent are how long the video must stay black or
	// frozen, or the audio silent, before the condition is reported. 0
	// disables that check (and, when both video checks are off, video
	// decoding; when Silent is off, audio decoding).
	Black, Frozen, Silent time.Duration

	// BlackPixelThreshold is the luma level (0..1 of the range) under
	// which a pixel is black; default 0.10 (blackdetect pix_th).
	BlackPixelThreshold float64
	// BlackPictureRatio is the share of black pixels (0..1) that makes a
	// picture black; default 0.98 (blackdetect pic_th).
	BlackPictureRatio float64
	// FreezeNoise is the largest mean absolute frame difference (0..1)
	// still counted as no change; default 0.001, i.e. -60 dB
	// (freezedetect n).
	FreezeNoise float64
	// SilenceNoiseDB is the level in dBFS (negative) under which audio is
	// silent; default -60 (silencedetect n).
	SilenceNoiseDB float64

	// FFmpeg is the ffmpeg binary, a path or a name looked up in PATH.
	// Default "ffmpeg".
	FFmpeg string
	// Sample selects which video frames are decoded; default
	// SampleKeyframes.
	Sample Sample
	// Stale is how long without a decoded frame (of each decoded track)
	// makes the state unknown; default 10 s. With SampleKeyframes it must
	// exceed the source's keyframe interval.
	Stale time.Duration
	// Queue is how many units may wait for ffmpeg before new ones are
	// dropped; default 1024 (about 20 s of AAC audio).
	Queue int
	// RestartMin and RestartMax bound the jittered backoff between
	// restarts of a failed ffmpeg (defaults 500 ms and 10 s).
	RestartMin, RestartMax time.Duration
	// Labels are constant labels added to every metric (for example the
	// channel and input).
	Labels prometheus.Labels
}

func (c Config) withDefaults() Config {
	if c.BlackPixelThreshold == 0 {
		c.BlackPixelThreshold = DefaultBlackPixelThreshold
	}
	if c.BlackPictureRatio == 0 {
		c.BlackPictureRatio = DefaultBlackPictureRatio
	}
	if c.FreezeNoise == 0 {
		c.FreezeNoise = DefaultFreezeNoise
	}
	if c.SilenceNoiseDB == 0 {
		c.SilenceNoiseDB = DefaultSilenceNoiseDB
	}
	if c.FFmpeg == "" {
		c.FFmpeg = "ffmpeg"
	}
	if c.Sample == "" {
		c.Sample = SampleKeyframes
	}
	if c.Stale <= 0 {
		c.Stale = DefaultStale
	}
	if c.Queue <= 0 {
		c.Queue = DefaultQueue
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
	return c
}

// Validate reports every problem with the configuration (after
// defaults).
func (c Config) Validate() error {
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"black", c.Black}, {"frozen", c.Frozen}, {"silent", c.Silent}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s duration %v must not be negative", d.name, d.v))
		}
	}
	if c.BlackPixelThreshold < 0 || c.BlackPixelThreshold > 1 {
		errs = append(errs, fmt.Errorf("black pixel threshold %g must be within 0..1", c.BlackPixelThreshold))
	}
	if c.BlackPictureRatio < 0 || c.BlackPictureRatio > 1 {
		errs = append(errs, fmt.Errorf("black picture ratio %g must be within 0..1", c.BlackPictureRatio))
	}
	if c.FreezeNoise < 0 || c.FreezeNoise > 1 {
		errs = append(errs, fmt.Errorf("freeze noise %g must be within 0..1", c.FreezeNoise))
	}
	if c.SilenceNoiseDB >= 0 || c.SilenceNoiseDB < -200 {
		errs = append(errs, fmt.Errorf("silence noise %g dB must be within -200..0", c.SilenceNoiseDB))
	}
	if c.Sample != SampleKeyframes && c.Sample != SampleAll {
		errs = append(errs, fmt.Errorf("sample %q must be %q or %q", c.Sample, SampleKeyframes, SampleAll))
	}
	return errors.Join(errs...)
}

// videoChecks reports whether any video condition is checked.
func (c Config) videoChecks() bool { return c.Black > 0 || c.Frozen > 0 }
