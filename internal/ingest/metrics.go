package ingest

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the ingest role's Prometheus metrics. One Metrics may serve
// both protocols; NewMetrics called twice on one Registerer returns
// collectors backed by the same series.
type Metrics struct {
	// Connections counts connections by protocol and Result: "accepted"
	// when a publisher session starts, any other result when a connection
	// is refused or cut. A session cut for stalling after it started
	// counts as accepted and then as stalled.
	Connections *prometheus.CounterVec
	// Active is the number of connections currently publishing.
	Active *prometheus.GaugeVec
	// Bytes counts payload bytes received per protocol and channel, once
	// the channel is known.
	Bytes *prometheus.CounterVec
	// Panics counts connection handlers that panicked and were recovered.
	Panics *prometheus.CounterVec
}

// NewMetrics registers the ingest metrics on reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Connections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_ingest_connections_total",
			Help: "Ingest connections by protocol and result (accepted, unknown_key, busy, bad_handshake, bad_passphrase, unsupported_codec, no_keyframe, stalled, error).",
		}, []string{"protocol", "result"}),
		Active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "onair_ingest_active_sessions",
			Help: "Ingest connections currently publishing.",
		}, []string{"protocol"}),
		Bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_ingest_bytes_total",
			Help: "Bytes received from publishers, by protocol and channel.",
		}, []string{"protocol", "channel"}),
		Panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_ingest_panics_total",
			Help: "Ingest connection handlers that panicked (recovered; the connection was closed).",
		}, []string{"protocol"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.Connections, err = register(reg, m.Connections); err != nil {
		return nil, err
	}
	if m.Active, err = register(reg, m.Active); err != nil {
		return nil, err
	}
	if m.Bytes, err = register(reg, m.Bytes); err != nil {
		return nil, err
	}
	if m.Panics, err = register(reg, m.Panics); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the identical collector already
// registered (the RTMP and SRT servers share one registry).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	var zero C
	return zero, fmt.Errorf("register ingest metrics: %w", err)
}

// Count adds one connection with result r.
func (m *Metrics) Count(protocol string, r Result) {
	m.Connections.WithLabelValues(protocol, string(r)).Inc()
}
