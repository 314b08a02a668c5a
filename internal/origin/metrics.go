package origin

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/live"
)

// metrics are the origin's Prometheus metrics.
type metrics struct {
	requests *prometheus.CounterVec
	waits    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, index *live.Index, now func() time.Time) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_origin_requests_total",
			Help: "Playback requests by kind (master, media, mpd, init, segment, part, other) and status code (499: client went away).",
		}, []string{"kind", "code"}),
		waits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_origin_blocking_waits_total",
			Help: "Held requests (blocking playlist reloads, not-yet-existing parts and segments) by result (ok, timeout, canceled, ended).",
		}, []string{"result"}),
	}
	if reg == nil {
		return m, nil
	}
	age := &ageCollector{index: index, now: now, desc: prometheus.NewDesc("onair_manifest_age_seconds",
		"Seconds since the rendition's index last changed (new part, segment or init), computed at scrape time, per pipeline.",
		[]string{"channel", "pipeline", "rendition"}, nil)}
	for _, c := range []prometheus.Collector{m.requests, m.waits, age} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// ageCollector computes the manifest-age signal at scrape time, so it is
// exact however rarely Prometheus scrapes and costs nothing in between.
type ageCollector struct {
	index *live.Index
	now   func() time.Time
	desc  *prometheus.Desc // onair_manifest_age_seconds{channel,pipeline,rendition}
}

func (c *ageCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *ageCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	for _, name := range c.index.Channels() {
		channel, ok := c.index.Lookup(name)
		if !ok {
			continue
		}
		cname, pipeline := live.SplitPipelineID(name)
		for _, rend := range channel.Renditions() {
			age := now.Sub(rend.LastChange()).Seconds()
			m, err := prometheus.NewConstMetric(c.desc, prometheus.GaugeValue, max(age, 0), cname, pipeline, rend.Name())
			if err != nil {
				m = prometheus.NewInvalidMetric(c.desc, err)
			}
			ch <- m
		}
	}
}
