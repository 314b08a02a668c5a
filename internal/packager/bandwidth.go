package packager

import "onair/internal/media"

// bandwidthMeter measures a rendition's bitrate from its completed
// segments over the live window: the peak segment bitrate (EXT-X-STREAM-INF
// BANDWIDTH, RFC 8216bis 4.4.6.2) and the average (AVERAGE-BANDWIDTH).
type bandwidthMeter struct {
	size []segSize // ring of the newest segments
}

type segSize struct {
	bytes    int
	duration int64 // 90 kHz ticks
}

// add records a completed segment and returns the peak and average bits
// per second over the newest window segments. Segments shorter than
// minTicks (a session's trailing stub) count for the average only, so a
// few bytes over a few milliseconds cannot fake a peak.
func (b *bandwidthMeter) add(bytes int, duration int64, window int, minTicks int64) (peak, avg int) {
	if duration <= 0 {
		return 0, 0
	}
	b.size = append(b.size, segSize{bytes, duration})
	if len(b.size) > window {
		b.size = append(b.size[:0], b.size[len(b.size)-window:]...)
	}
	var totalBytes, totalTicks int64
	for _, s := range b.size {
		totalBytes += int64(s.bytes)
		totalTicks += s.duration
		if s.duration >= minTicks {
			peak = max(peak, int(int64(s.bytes)*8*media.Timescale/s.duration))
		}
	}
	avg = int(totalBytes * 8 * media.Timescale / totalTicks)
	return peak, avg
}

// measured reports whether the meter has seen a segment.
func (b *bandwidthMeter) measured() bool { return len(b.size) > 0 }
