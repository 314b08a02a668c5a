package packager

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the packager's Prometheus collectors.
type metrics struct {
	parts        *prometheus.CounterVec
	segments     *prometheus.CounterVec
	bytes        *prometheus.CounterVec
	unaligned    *prometheus.CounterVec
	dropped      *prometheus.CounterVec // units that could not be packaged, by reason
	audioResync  *prometheus.CounterVec
	partLatency  *prometheus.HistogramVec
	storeErrors  *prometheus.CounterVec
	retryBytes   prometheus.Gauge
	retryDropped prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	cr := []string{"channel", "rendition"}
	m := &metrics{
		parts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_packager_parts_total",
			Help: "CMAF parts (LL-HLS partial segments) published.",
		}, cr),
		segments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_packager_segments_total",
			Help: "Media segments completed.",
		}, cr),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_packager_bytes_total",
			Help: "Bytes of media segments published (styp + moof + mdat).",
		}, cr),
		unaligned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_packager_unaligned_segments_total",
			Help: "Segments that do not start with a keyframe (source GOP not on the channel grid).",
		}, cr),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_packager_dropped_units_total",
			Help: "Access units not packaged, by reason.",
		}, []string{"channel", "rendition", "reason"}),
		audioResync: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_packager_audio_resyncs_total",
			Help: "Times the audio sample counter was re-aligned to the timestamps (gap or overlap of more than one frame).",
		}, cr),
		partLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "onair_packager_part_latency_seconds",
			Help:    "Wall time from the ingest arrival of a part's last frame to the part being in the live index, per rendition (passthrough renditions skip the transcoder).",
			Buckets: []float64{.005, .01, .025, .05, .075, .1, .15, .2, .25, .3, .4, .5, .6, .8, 1, 1.5, 2.5, 5},
		}, []string{"channel", "rendition"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_storage_errors_total",
			Help: "Object store operations that failed, by operation (put, get, delete).",
		}, []string{"op"}),
		retryBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "onair_storage_retry_queue_bytes",
			Help: "Bytes of objects waiting to be written to the object store again.",
		}),
		retryDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "onair_storage_retry_dropped_objects_total",
			Help: "Objects dropped from a full retry queue without reaching the object store.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.parts, m.segments, m.bytes, m.unaligned, m.dropped, m.audioResync,
		m.partLatency, m.storeErrors, m.retryBytes, m.retryDropped} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("packager: register metrics: %w", err)
		}
	}
	return m, nil
}

// trackMetrics are one track's label-bound collectors.
type trackMetrics struct {
	parts, segments, bytes, unaligned, resync prometheus.Counter
	latency                                   prometheus.Observer
	m                                         *metrics
	channel, rendition                        string
}

func (m *metrics) track(channel, rendition string) trackMetrics {
	return trackMetrics{
		parts:     m.parts.WithLabelValues(channel, rendition),
		segments:  m.segments.WithLabelValues(channel, rendition),
		bytes:     m.bytes.WithLabelValues(channel, rendition),
		unaligned: m.unaligned.WithLabelValues(channel, rendition),
		resync:    m.audioResync.WithLabelValues(channel, rendition),
		latency:   m.partLatency.WithLabelValues(channel, rendition),
		m:         m,
		channel:   channel,
		rendition: rendition,
	}
}

func (tm trackMetrics) drop(reason string) {
	tm.m.dropped.WithLabelValues(tm.channel, tm.rendition, reason).Inc()
}
