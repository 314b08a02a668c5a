package detect

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are one Detector's series; Config.Labels are their constant
// labels.
type metrics struct {
	state    *prometheus.GaugeVec // label condition: black, frozen, silent, unknown
	dropped  prometheus.Counter
	restarts prometheus.Counter
}

// newMetrics registers the Detector's metrics on reg (nil: unregistered).
// A collector already registered with the same constant labels (a
// Detector recreated for the same input) is reused.
func newMetrics(reg prometheus.Registerer, labels prometheus.Labels) (*metrics, error) {
	state := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name:        "onair_input_content_state",
		Help:        "1 while the input's content is in the condition (black, frozen, silent) or its state is unknown.",
		ConstLabels: labels,
	}, []string{"condition"})
	dropped := prometheus.NewCounter(prometheus.CounterOpts{
		Name:        "onair_input_content_dropped_units_total",
		Help:        "Units the content detector dropped because its queue was full.",
		ConstLabels: labels,
	})
	restarts := prometheus.NewCounter(prometheus.CounterOpts{
		Name:        "onair_input_content_restarts_total",
		Help:        "Restarts of the content detector's ffmpeg after a failure.",
		ConstLabels: labels,
	})
	// Bad constant labels (an invalid name, or "condition") show here.
	if _, err := state.GetMetricWithLabelValues("unknown"); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if reg != nil {
		var err error
		if state, err = register(reg, state); err != nil {
			return nil, err
		}
		if dropped, err = register(reg, dropped); err != nil {
			return nil, err
		}
		if restarts, err = register(reg, restarts); err != nil {
			return nil, err
		}
	}
	m := &metrics{state: state, dropped: dropped, restarts: restarts}
	m.set(State{})
	return m, nil
}

// set shows s on the state gauges.
func (m *metrics) set(s State) {
	g := func(c string, on bool) {
		v := 0.0
		if on {
			v = 1
		}
		m.state.WithLabelValues(c).Set(v)
	}
	g(condBlack.String(), s.Black)
	g(condFrozen.String(), s.Frozen)
	g(condSilent.String(), s.Silent)
	g("unknown", !s.Known)
}

// register registers c, or returns the collector already registered
// under the same description.
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
