package session

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Operations, the op label of onair_session_store_errors_total.
const (
	opCreate        = "create"
	opGet           = "get"
	opTouch         = "touch"
	opRevoke        = "revoke"
	opList          = "list"
	opDeleteChannel = "delete_channel"
	opCheck         = "check"
)

// metrics are a Store's Prometheus metrics.
type metrics struct {
	created prometheus.Counter
	revoked prometheus.Counter
	errors  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		created: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "onair_sessions_created_total",
			Help: "Viewer sessions created.",
		}),
		revoked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "onair_sessions_revoked_total",
			Help: "Viewer sessions revoked (a repeated revoke of the same session is not counted).",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_session_store_errors_total",
			Help: "Session store operations that failed on storage or KMS trouble (not on a missing, existing, revoked or invalid session), by operation.",
		}, []string{"op"}),
	}
	for _, op := range []string{opCreate, opGet, opTouch, opRevoke, opList, opDeleteChannel, opCheck} {
		m.errors.WithLabelValues(op)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.created, m.revoked, m.errors} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("session: register metrics: %w", err)
		}
	}
	return m, nil
}
