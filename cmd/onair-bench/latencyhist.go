package main

import (
	"math"
	"sync/atomic"
	"time"
)

// Bucket layout of latencyHist: bucket i holds latencies in
// [histBase*histGrowth^(i-1), histBase*histGrowth^i), bucket 0 everything
// below histBase, the last everything above the range. 5 % wide buckets
// from 10 µs to about 80 s.
const (
	histBase    = 10 * time.Microsecond
	histGrowth  = 1.05
	histBuckets = 330
)

// latencyHist is a log-bucketed latency histogram that many goroutines
// can add to without locks. Quantiles are accurate to one bucket (5 %).
type latencyHist struct {
	counts [histBuckets]atomic.Int64
	n      atomic.Int64
}

// bucketOf returns the bucket of d.
func bucketOf(d time.Duration) int {
	if d < histBase {
		return 0
	}
	i := int(math.Log(float64(d)/float64(histBase))/math.Log(histGrowth)) + 1
	return min(i, histBuckets-1)
}

// bucketUpper is the upper bound of bucket i (the largest value it may
// hold, for the last bucket the lower bound).
func bucketUpper(i int) time.Duration {
	return time.Duration(float64(histBase) * math.Pow(histGrowth, float64(min(i, histBuckets-2))))
}

// add records one latency.
func (h *latencyHist) add(d time.Duration) {
	h.counts[bucketOf(d)].Add(1)
	h.n.Add(1)
}

// count is the number of latencies recorded.
func (h *latencyHist) count() int64 { return h.n.Load() }

// quantile returns the upper bound of the bucket holding the q-quantile
// (0 < q <= 1), or -1 when the histogram is empty.
func (h *latencyHist) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return -1
	}
	rank := int64(math.Ceil(q * float64(n)))
	var seen int64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return bucketUpper(i)
		}
	}
	return bucketUpper(histBuckets - 1)
}
