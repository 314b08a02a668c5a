package waf

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a request is refused: the blocked metric's labels.
const (
	reasonRule      = "rule"       // the core rule set (403, or 400 for an unparsable body)
	reasonRateIP    = "rate_ip"    // the client address's limit (429)
	reasonRateToken = "rate_token" // the token's limit (429)
	reasonURLShape  = "url_shape"  // a cheap-mode request that is not a playback URL (403)
	reasonBodySize  = "body_size"  // a full-mode body over RequestBodyLimit (413)
)

// metrics are the WAF's Prometheus metrics.
type metrics struct {
	requests [2]prometheus.Counter // by Mode
	blocked  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, w *WAF) (*metrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onair_waf_requests_total",
		Help: "Requests the WAF checked, by mode (full: core rule set; cheap: URL shape and rate limits).",
	}, []string{"mode"})
	m := &metrics{
		blocked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_waf_blocked_total",
			Help: "Requests the WAF refused, by reason (rule: core rule set; rate_ip, rate_token: rate limits; url_shape: not a playback URL; body_size: body over the limit).",
		}, []string{"reason"}),
	}
	for _, mode := range []Mode{ModeFull, ModeCheap} {
		m.requests[mode] = requests.WithLabelValues(mode.String())
	}
	for _, r := range []string{reasonRule, reasonRateIP, reasonRateToken, reasonURLShape, reasonBodySize} {
		m.blocked.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	tracked := prometheus.NewDesc("onair_waf_tracked_clients",
		"Entries in a rate-limit table (limit: ip, token), computed at scrape time.", []string{"limit"}, nil)
	evicted := prometheus.NewDesc("onair_waf_evicted_clients_total",
		"Entries dropped from a full rate-limit table (limit: ip, token): a steady rise means max clients is too small.", []string{"limit"}, nil)
	for _, c := range []prometheus.Collector{requests, m.blocked, &tableCollector{w: w, tracked: tracked, evicted: evicted}} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// tableCollector reports the rate-limit tables' sizes at scrape time.
type tableCollector struct {
	w                *WAF
	tracked, evicted *prometheus.Desc
}

func (c *tableCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.tracked
	ch <- c.evicted
}

func (c *tableCollector) Collect(ch chan<- prometheus.Metric) {
	for _, t := range []struct {
		name string
		lim  *limiter
	}{{"ip", c.w.ipLim}, {"token", c.w.tokenLim}} {
		if t.lim == nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.tracked, prometheus.GaugeValue, float64(t.lim.len()), t.name)
		ch <- prometheus.MustNewConstMetric(c.evicted, prometheus.CounterValue, float64(t.lim.evictions()), t.name)
	}
}
