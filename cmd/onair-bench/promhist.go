package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// histogram is one Prometheus histogram series: cumulative bucket counts
// by upper bound (le), plus sum and count.
type histogram struct {
	Buckets []bucket // sorted by LE; the last one is +Inf when present
	Sum     float64
	Count   float64
}

type bucket struct {
	LE    float64 // upper bound, seconds for a latency histogram
	Count float64 // cumulative: observations <= LE
}

// parseHistogram extracts the series name{labels...} from Prometheus text
// exposition format, where match is a label pair that must be present
// (e.g. `channel="ll"`; "" matches any series). It errors when no series
// matches.
func parseHistogram(text []byte, name, match string) (histogram, error) {
	var h histogram
	found := false
	byLE := map[float64]float64{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		metric, labels, value, ok := splitSample(line)
		if !ok || !strings.HasPrefix(metric, name) {
			continue
		}
		if match != "" && !hasLabel(labels, match) {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return histogram{}, fmt.Errorf("parse histogram %s: value %q: %w", name, value, err)
		}
		switch metric {
		case name + "_bucket":
			le, ok := labelValue(labels, "le")
			if !ok {
				return histogram{}, fmt.Errorf("parse histogram %s: bucket without le", name)
			}
			bound, err := strconv.ParseFloat(le, 64)
			if err != nil {
				return histogram{}, fmt.Errorf("parse histogram %s: le %q: %w", name, le, err)
			}
			byLE[bound] += v // series with other labels (e.g. rendition) add up
			found = true
		case name + "_sum":
			h.Sum += v
			found = true
		case name + "_count":
			h.Count += v
			found = true
		}
	}
	if err := sc.Err(); err != nil {
		return histogram{}, fmt.Errorf("parse histogram %s: %w", name, err)
	}
	if !found {
		return histogram{}, fmt.Errorf("histogram %s{%s} not found", name, match)
	}
	for le, c := range byLE {
		h.Buckets = append(h.Buckets, bucket{LE: le, Count: c})
	}
	sort.Slice(h.Buckets, func(i, j int) bool { return h.Buckets[i].LE < h.Buckets[j].LE })
	return h, nil
}

// splitSample splits `metric{labels} value [timestamp]`.
func splitSample(line string) (metric, labels, value string, ok bool) {
	rest := line
	if i := strings.IndexByte(line, '{'); i >= 0 {
		j := strings.LastIndexByte(line, '}')
		if j < i {
			return "", "", "", false
		}
		metric, labels, rest = line[:i], line[i+1:j], line[j+1:]
	} else {
		sp := strings.IndexAny(line, " \t")
		if sp < 0 {
			return "", "", "", false
		}
		metric, rest = line[:sp], line[sp:]
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return "", "", "", false
	}
	return metric, labels, f[0], true
}

// hasLabel reports whether the label list contains the pair exactly
// (e.g. channel="ll").
func hasLabel(labels, pair string) bool {
	k, v, ok := strings.Cut(pair, "=")
	if !ok {
		return false
	}
	got, ok := labelValue(labels, k)
	return ok && `"`+got+`"` == v
}

// labelValue returns the unquoted value of label key. Label values the
// bench matches contain no commas or escaped quotes.
func labelValue(labels, key string) (string, bool) {
	for _, kv := range strings.Split(labels, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if ok && k == key && len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			return v[1 : len(v)-1], true
		}
	}
	return "", false
}

// sub returns h minus an earlier snapshot of the same series: the
// observations made between the two.
func (h histogram) sub(earlier histogram) (histogram, error) {
	if len(earlier.Buckets) == 0 {
		return h, nil
	}
	if len(earlier.Buckets) != len(h.Buckets) {
		return histogram{}, fmt.Errorf("histogram buckets changed between snapshots (%d, %d)", len(earlier.Buckets), len(h.Buckets))
	}
	d := histogram{Sum: h.Sum - earlier.Sum, Count: h.Count - earlier.Count, Buckets: make([]bucket, len(h.Buckets))}
	for i, b := range h.Buckets {
		if earlier.Buckets[i].LE != b.LE {
			return histogram{}, fmt.Errorf("histogram bucket bounds changed between snapshots")
		}
		d.Buckets[i] = bucket{LE: b.LE, Count: b.Count - earlier.Buckets[i].Count}
	}
	return d, nil
}

// mean returns Sum/Count (NaN when empty).
func (h histogram) mean() float64 {
	if h.Count <= 0 {
		return math.NaN()
	}
	return h.Sum / h.Count
}

// quantile estimates the q-quantile (0 <= q <= 1) the way Prometheus's
// histogram_quantile does: find the bucket that holds rank q*count and
// interpolate linearly between its lower and upper bound (the first
// bucket's lower bound is 0). A rank in the +Inf bucket returns the
// highest finite bound. NaN when there are no observations.
func (h histogram) quantile(q float64) float64 {
	if len(h.Buckets) == 0 || q < 0 || q > 1 || math.IsNaN(q) {
		return math.NaN()
	}
	total := h.Buckets[len(h.Buckets)-1].Count
	if !math.IsInf(h.Buckets[len(h.Buckets)-1].LE, 1) {
		total = math.Max(total, h.Count)
	}
	if total <= 0 {
		return math.NaN()
	}
	rank := q * total
	lower, below := 0.0, 0.0
	for _, b := range h.Buckets {
		if math.IsInf(b.LE, 1) {
			return lower // the highest finite bound
		}
		if b.Count >= rank && b.Count > below {
			return lower + (b.LE-lower)*(rank-below)/(b.Count-below)
		}
		lower, below = b.LE, b.Count
	}
	return lower
}

// shareAtMost returns the fraction of observations <= le, where le must be
// one of the bucket bounds (NaN otherwise or when empty).
func (h histogram) shareAtMost(le float64) float64 {
	if h.Count <= 0 {
		return math.NaN()
	}
	for _, b := range h.Buckets {
		if b.LE == le {
			return b.Count / h.Count
		}
	}
	return math.NaN()
}
