package control

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the API's Prometheus collectors.
type metrics struct {
	requests     *prometheus.CounterVec // route, code
	authFailures *prometheus.CounterVec // reason
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_api_requests_total",
			Help: "Control API and dashboard requests by route pattern and status code.",
		}, []string{"route", "code"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_api_auth_failures_total",
			Help: "Control API and dashboard requests refused by access control, by reason.",
		}, []string{"reason"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.authFailures} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// instrument counts every request by the route pattern that will serve it
// (bounded cardinality: the patterns registered in routes, or "unmatched")
// and the status code written.
func (a *API) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, route := a.mux.Handler(r)
		if route == "" {
			route = "unmatched"
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		a.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
	})
}

// statusWriter records the status code written through it.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
