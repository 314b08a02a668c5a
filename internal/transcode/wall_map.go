package transcode

import (
	"sync"
	"time"
)

// wallMap remembers the ingest wall time of recent input frames by PTS, so
// an output frame can carry the Wall of the input frame it came from. It
// is a fixed-size ring: lookups cover the last len(ring) input frames,
// which is far more than ffmpeg ever holds.
type wallMap struct {
	mu   sync.Mutex
	ring []wallEntry
	next int
	n    int
}

type wallEntry struct {
	pts  int64
	wall time.Time
}

func newWallMap(size int) *wallMap { return &wallMap{ring: make([]wallEntry, size)} }

func (m *wallMap) put(pts int64, wall time.Time) {
	m.mu.Lock()
	m.ring[m.next] = wallEntry{pts, wall}
	m.next = (m.next + 1) % len(m.ring)
	m.n = min(m.n+1, len(m.ring))
	m.mu.Unlock()
}

// get returns the wall time of the input frame whose PTS is nearest to
// pts (the fps filter may move a frame by up to half a frame), or the zero
// time when no frame within maxDiff ticks is known.
func (m *wallMap) get(pts, maxDiff int64) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	best, bestDiff := time.Time{}, maxDiff+1
	for i := range m.n {
		e := m.ring[i]
		d := e.pts - pts
		if d < 0 {
			d = -d
		}
		if d < bestDiff {
			best, bestDiff = e.wall, d
		}
	}
	return best
}
