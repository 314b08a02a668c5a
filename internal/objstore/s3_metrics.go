package objstore

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// s3Metrics count S3 requests, so an outage or a slow bucket shows in
// /metrics next to the packager's retry queue.
type s3Metrics struct {
	requests *prometheus.CounterVec   // op, result
	latency  *prometheus.HistogramVec // op
}

func newS3Metrics(reg prometheus.Registerer) (*s3Metrics, error) {
	m := &s3Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_storage_s3_requests_total",
			Help: "S3 requests by operation (put, get, delete, list, bucket) and result (ok, not_found, error); client-side retries count once.",
		}, []string{"op", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "onair_storage_s3_request_duration_seconds",
			Help:    "Time to complete an S3 request, including client-side retries, by operation.",
			Buckets: []float64{.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"op"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.latency} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("objstore: s3 metrics (one S3 store per registry): %w", err)
		}
	}
	return m, nil
}

// observe records one request that started at start and ended with err.
func (m *s3Metrics) observe(op string, start time.Time, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.requests.WithLabelValues(op, result).Inc()
	m.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
}
