package edgetest

import "time"

// timeline maps wall time to the channel's progress. Part g (counting
// every part since segment 0, part 0) is complete at epoch + (g+1)*part;
// segment n covers parts n*k to n*k+k-1 and is complete with its last.
type timeline struct {
	epoch time.Time // segment 0 starts here
	seg   time.Duration
	part  time.Duration
	k     int64 // parts per segment
}

func newTimeline(start time.Time, seg, part time.Duration, preroll int) timeline {
	return timeline{epoch: start.Add(-time.Duration(preroll) * seg), seg: seg, part: part, k: int64(seg / part)}
}

// parts is how many parts are complete at t.
func (tl timeline) parts(t time.Time) int64 {
	d := t.Sub(tl.epoch)
	if d < 0 {
		return 0
	}
	return int64(d / tl.part)
}

// position is how far the channel is at one moment: the newest segment
// (possibly in progress) and how many of its parts are complete (k when
// the segment is). n is -1 before the first part.
type position struct {
	n     int64
	parts int
}

// complete reports whether the newest segment is complete.
func (p position) complete(k int64) bool { return int64(p.parts) == k }

// lastComplete is the newest complete segment (-1 if none).
func (p position) lastComplete(k int64) int64 {
	if p.complete(k) {
		return p.n
	}
	return p.n - 1
}

// at returns the position at t.
func (tl timeline) at(t time.Time) position {
	g := tl.parts(t)
	if g == 0 {
		return position{n: -1}
	}
	n := (g - 1) / tl.k
	return position{n: n, parts: int(g - n*tl.k)}
}

// readyAt is when part p of segment n is complete (p < 0: the whole
// segment).
func (tl timeline) readyAt(n int64, p int) time.Time {
	g := n*tl.k + int64(p) + 1
	if p < 0 {
		g = (n + 1) * tl.k
	}
	return tl.epoch.Add(time.Duration(g) * tl.part)
}

// segmentStart is the wall time at which segment n starts (its
// PROGRAM-DATE-TIME).
func (tl timeline) segmentStart(n int64) time.Time {
	return tl.epoch.Add(time.Duration(n) * tl.seg)
}
