package speke

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Results: the result label of onair_speke_provider_requests_total.
const (
	resultOK           = "ok"
	resultMethod       = "method"       // 405: not POST
	resultUnauthorized = "unauthorized" // 401: Auth refused
	resultVersion      = "version"      // 400: X-Speke-Version or CPIX@version not 2.0 / 2.3
	resultMediaType    = "media_type"   // 415: not application/xml
	resultTooLarge     = "too_large"    // 413
	resultMalformed    = "malformed"    // 400: not a CPIX document
	resultInvalid      = "invalid"      // 400: breaks a CPIX rule
	resultUnsupported  = "unsupported"  // 400: a DRM system or element this provider cannot fill
	resultRefused      = "refused"      // 403: the KeySource refused a key
	resultUnavailable  = "unavailable"  // 503: the KeySource failed
	resultInternal     = "error"        // 500
)

func allResults() []string {
	return []string{resultOK, resultMethod, resultUnauthorized, resultVersion, resultMediaType, resultTooLarge,
		resultMalformed, resultInvalid, resultUnsupported, resultRefused, resultUnavailable, resultInternal}
}

// providerMetrics are the Provider's Prometheus metrics.
type providerMetrics struct {
	requests *prometheus.CounterVec
	keys     prometheus.Counter
}

// newProviderMetrics makes the metrics, registered on reg unless it is
// nil, with every result series present at zero.
func newProviderMetrics(reg prometheus.Registerer) (*providerMetrics, error) {
	m := &providerMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_speke_provider_requests_total",
			Help: "SPEKE v2 key requests by result: ok; method (405), unauthorized (401), version (400: not SPEKE 2.0 / CPIX 2.3), media_type (415), too_large (413), malformed (400: not CPIX), invalid (400: CPIX rule broken), unsupported (400: DRM system or element not served), refused (403: key source refused), unavailable (503: key source failed), error (500).",
		}, []string{"result"}),
		keys: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "onair_speke_provider_keys_total",
			Help: "Content keys returned in successful SPEKE responses.",
		}),
	}
	for _, r := range allResults() {
		m.requests.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.keys} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register speke metrics: %w", err)
		}
	}
	return m, nil
}
