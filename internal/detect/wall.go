package detect

import (
	"sync"
	"time"

	"onair/internal/media"
)

// wallMap remembers when recent units of one track reached ingest, so a
// condition's start PTS can be given a wall time. It keeps one sample per
// wallEvery of media time in a ring; a PTS between samples (or older than
// the ring) is placed by media time from the nearest sample at or before
// it, which is exact for a source paced in real time.
type wallMap struct {
	mu   sync.Mutex
	ring []wallSample
	next int
	n    int
}

type wallSample struct {
	pts  int64
	wall time.Time
}

// wallEvery is the media time between kept samples (100 ms): a ring of
// 1024 samples covers 100 s exactly, older instants are extrapolated.
const wallEvery = media.Timescale / 10

func newWallMap(size int) *wallMap { return &wallMap{ring: make([]wallSample, size)} }

// put records that the unit with pts (channel clock) arrived at wall.
func (m *wallMap) put(pts int64, wall time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n > 0 {
		last := m.ring[(m.next+len(m.ring)-1)%len(m.ring)]
		if pts >= last.pts && pts-last.pts < wallEvery {
			return
		}
	}
	m.ring[m.next] = wallSample{pts, wall}
	m.next = (m.next + 1) % len(m.ring)
	m.n = min(m.n+1, len(m.ring))
}

// get returns the wall time of pts, or the zero time when nothing was
// recorded.
func (m *wallMap) get(pts int64) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	var best wallSample
	found := false
	var oldest wallSample
	for i := range m.n {
		s := m.ring[(m.next+len(m.ring)-m.n+i)%len(m.ring)]
		if i == 0 {
			oldest = s
		}
		if s.pts <= pts && (!found || s.pts > best.pts) {
			best, found = s, true
		}
	}
	if !found {
		if m.n == 0 {
			return time.Time{}
		}
		best = oldest
	}
	return best.wall.Add(time.Duration((pts - best.pts) * int64(time.Second) / media.Timescale))
}
