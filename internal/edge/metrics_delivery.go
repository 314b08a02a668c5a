package edge

import "github.com/prometheus/client_golang/prometheus"

// deliveryMetrics are the metrics of the disk spill, conditional
// requests, per-channel manifest failover and manifest alarms; metrics
// embeds them.
type deliveryMetrics struct {
	notModified      prometheus.Counter
	revalidations    *prometheus.CounterVec
	spillHits        prometheus.Counter
	spillErrors      *prometheus.CounterVec
	spillDropped     *prometheus.CounterVec
	spillBytes       prometheus.Gauge
	spillObjects     prometheus.Gauge
	manifestFailover *prometheus.CounterVec
	manifestStale    *prometheus.GaugeVec
	manifestAlarm    *prometheus.GaugeVec
}

func newDeliveryMetrics() deliveryMetrics {
	return deliveryMetrics{
		notModified: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "onair_edge_not_modified_total",
			Help: "Viewer requests answered 304 Not Modified because a precondition matched a cached or arriving response.",
		}),
		revalidations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_edge_revalidations_total",
			Help: "Conditional upstream requests for expired cached objects by result (not_modified: 304, the cached body was kept; modified: a new response).",
		}, []string{"result"}),
		spillHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "onair_edge_spill_hits_total",
			Help: "Viewer requests answered from the disk spill.",
		}),
		spillErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_edge_spill_errors_total",
			Help: "Failed spill operations by operation (prepare, write, read, remove); the object is dropped and requests for it go upstream.",
		}, []string{"op"}),
		spillDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_edge_spill_dropped_total",
			Help: "Evicted objects not spilled, by reason (backlog: the writer is behind; too_large: over SpillBytes).",
		}, []string{"reason"}),
		spillBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "onair_edge_spill_bytes",
			Help: "Body bytes of the objects in the disk spill, queued writes included.",
		}),
		spillObjects: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "onair_edge_spill_objects",
			Help: "Objects in the disk spill, queued writes included.",
		}),
		manifestFailover: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_edge_manifest_failovers_total",
			Help: "Times an upstream was marked stale for a channel because another upstream answered a newer media playlist.",
		}, []string{"channel", "upstream"}),
		manifestStale: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "onair_edge_upstream_manifest_stale",
			Help: "1 while the upstream is skipped for the channel because its media playlists stopped advancing, else 0.",
		}, []string{"channel", "upstream"}),
		manifestAlarm: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "onair_edge_manifest_alarm",
			Help: "1 while the channel's manifest age is over ManifestAlarmAfter, else 0.",
		}, []string{"channel"}),
	}
}

// collectors lists the metrics for registration.
func (d *deliveryMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{d.notModified, d.revalidations, d.spillHits, d.spillErrors, d.spillDropped,
		d.spillBytes, d.spillObjects, d.manifestFailover, d.manifestStale, d.manifestAlarm}
}
