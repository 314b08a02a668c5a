package edge

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the edge's Prometheus metrics.
type metrics struct {
	requests           *prometheus.CounterVec
	upstreamRequests   *prometheus.CounterVec
	collapsed          prometheus.Counter
	bytes              *prometheus.CounterVec
	cacheBytes         prometheus.Gauge
	cacheObjects       prometheus.Gauge
	upstreamUp         *prometheus.GaugeVec
	breakerOpen        prometheus.Gauge
	breakerTransitions *prometheus.CounterVec
	slateRenders       *prometheus.CounterVec
	deliveryMetrics    // metrics_delivery.go
	accessMetrics      // access.go
}

func newMetrics(reg prometheus.Registerer, e *Edge) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_edge_requests_total",
			Help: "Viewer requests by cache outcome (hit, miss, collapsed, stale, slate, denied: no valid signed token, error: includes refused requests).",
		}, []string{"cache"}),
		upstreamRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_edge_upstream_requests_total",
			Help: "Requests to upstreams by upstream and status code (error: no response, timeout: no response head in time).",
		}, []string{"upstream", "code"}),
		collapsed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "onair_edge_collapsed_total",
			Help: "Viewer requests that joined a fill already in flight instead of going upstream.",
		}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_edge_bytes_total",
			Help: "Body bytes by direction (in: from upstreams, out: to viewers).",
		}, []string{"direction"}),
		cacheBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "onair_edge_cache_bytes",
			Help: "Bytes charged to the cache budget.",
		}),
		cacheObjects: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "onair_edge_cache_objects",
			Help: "Responses held in the cache.",
		}),
		upstreamUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "onair_edge_upstream_up",
			Help: "1 when the upstream is in the preferred set, 0 while it is down and probed.",
		}, []string{"upstream"}),
		breakerOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "onair_edge_breaker_open",
			Help: "1 while the circuit breaker is open (upstreams keep failing: cache and slate are served), else 0.",
		}),
		breakerTransitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_edge_breaker_transitions_total",
			Help: "Circuit breaker transitions by new state (open, half_open: one probe sent, closed).",
		}, []string{"to"}),
		slateRenders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_edge_slate_renders_total",
			Help: "Slate tracks rendered with ffmpeg, by result (ok, error).",
		}, []string{"result"}),
		deliveryMetrics: newDeliveryMetrics(),
		accessMetrics:   newAccessMetrics(),
	}
	if reg == nil {
		return m, nil
	}
	age := &ageCollector{ages: e.ages, now: e.now, desc: prometheus.NewDesc("onair_edge_manifest_age_seconds",
		"Seconds since the newest segment or part seen in any media playlist of the channel changed, computed at scrape time.",
		[]string{"channel"}, nil)}
	for _, c := range []prometheus.Collector{m.requests, m.upstreamRequests, m.collapsed, m.bytes,
		m.cacheBytes, m.cacheObjects, m.upstreamUp, m.breakerOpen, m.breakerTransitions, m.slateRenders, m.denied, age} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	for _, c := range m.deliveryMetrics.collectors() {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}
