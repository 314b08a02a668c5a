package license

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the handler's Prometheus metrics.
type metrics struct {
	requests *prometheus.CounterVec
	refused  *prometheus.CounterVec
}

// newMetrics makes the metrics, registered on reg unless it is nil, with
// every series that a dashboard expects at zero already present.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_license_requests_total",
			Help: "License requests by kind (clearkey, aes128, other: not a license URL) and result (ok, or the refusal reason of onair_license_refused_total). CORS preflights are not counted.",
		}, []string{"kind", "result"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_license_refused_total",
			Help: "License requests answered without key material, by reason: no_token, bad_token, unknown_kid, expired, not_yet_valid (401); wrong_channel, revoked (403); unknown_key, not_found (404); bad_request (400); too_large (413); method (405); unavailable (503: session check or key store failed); error (500).",
		}, []string{"reason"}),
	}
	for _, kind := range []string{kindClearKey, kindAES128} {
		m.requests.WithLabelValues(kind, "ok")
	}
	for _, reason := range allReasons() {
		m.refused.WithLabelValues(reason)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.refused} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register license metrics: %w", err)
		}
	}
	return m, nil
}
