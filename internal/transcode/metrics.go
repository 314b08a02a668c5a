package transcode

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are one channel's children of the transcoder's metric vectors.
type metrics struct {
	speed    prometheus.Gauge
	up       prometheus.Gauge
	restarts prometheus.Counter
	frames   *prometheus.CounterVec // curried with channel; label rendition
}

// newMetrics registers the transcoder's vectors on reg (or reuses them
// when another channel's pipeline already did) and returns this channel's
// children. A nil reg keeps the metrics unregistered.
func newMetrics(reg prometheus.Registerer, channel string) (*metrics, error) {
	speed := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "onair_transcode_speed",
		Help: "Media time encoded per wall time over the last 5 s (1 = real time).",
	}, []string{"channel"})
	up := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "onair_transcode_up",
		Help: "1 while the channel's ffmpeg is running.",
	}, []string{"channel"})
	restarts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onair_transcode_restarts_total",
		Help: "ffmpeg restarts after a failure.",
	}, []string{"channel"})
	frames := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onair_transcode_frames_total",
		Help: "Video frames output per rendition (ladder and source).",
	}, []string{"channel", "rendition"})
	if reg != nil {
		var err error
		if speed, err = register(reg, speed); err != nil {
			return nil, err
		}
		if up, err = register(reg, up); err != nil {
			return nil, err
		}
		if restarts, err = register(reg, restarts); err != nil {
			return nil, err
		}
		if frames, err = register(reg, frames); err != nil {
			return nil, err
		}
	}
	cur, err := frames.CurryWith(prometheus.Labels{"channel": channel})
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	m := &metrics{
		speed:    speed.WithLabelValues(channel),
		up:       up.WithLabelValues(channel),
		restarts: restarts.WithLabelValues(channel),
		frames:   cur,
	}
	// Make the series visible before the first event.
	m.restarts.Add(0)
	m.up.Set(0)
	return m, nil
}

// register registers c, or returns the collector already registered under
// the same description (another channel's pipeline on the same registry).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("register metrics: %w", err)
	}
	return c, nil
}
