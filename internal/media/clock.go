package media

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Grid is the channel clock's segment and part grid.
//
// Invariant (Validate): Segment is a whole multiple of Part, and both are
// whole numbers of 90 kHz ticks.
type Grid struct {
	Segment time.Duration // D, default 2 s
	Part    time.Duration // P, default 500 ms
}

// Validate reports whether the grid is usable.
func (g Grid) Validate() error {
	if g.Segment <= 0 || g.Part <= 0 {
		return fmt.Errorf("segment (%v) and part (%v) durations must be positive", g.Segment, g.Part)
	}
	if g.Part > g.Segment || g.Segment%g.Part != 0 {
		return fmt.Errorf("segment duration %v must be a whole multiple of part duration %v", g.Segment, g.Part)
	}
	if Ticks(g.Part) == 0 || time.Duration(Ticks(g.Part))*time.Second/Timescale != g.Part {
		return fmt.Errorf("part duration %v is not a whole number of 90 kHz ticks", g.Part)
	}
	return nil
}

// SegmentTicks returns D in 90 kHz ticks.
func (g Grid) SegmentTicks() int64 { return Ticks(g.Segment) }

// PartTicks returns P in 90 kHz ticks.
func (g Grid) PartTicks() int64 { return Ticks(g.Part) }

// PartsPerSegment returns D/P.
func (g Grid) PartsPerSegment() int { return int(g.Segment / g.Part) }

// SegmentAt returns the number of the segment that contains channel time t.
func (g Grid) SegmentAt(t int64) int64 { return floorDiv(t, g.SegmentTicks()) }

// PartAt returns the segment and part index that contain channel time t.
func (g Grid) PartAt(t int64) (seg int64, part int) {
	seg = g.SegmentAt(t)
	part = int((t - seg*g.SegmentTicks()) / g.PartTicks())
	return seg, part
}

// SegmentStart returns the channel time at which segment n starts.
func (g Grid) SegmentStart(n int64) int64 { return n * g.SegmentTicks() }

// PartStart returns the channel time at which part p of segment n starts.
func (g Grid) PartStart(n int64, p int) int64 {
	return n*g.SegmentTicks() + int64(p)*g.PartTicks()
}

// Ticks converts a duration to 90 kHz ticks, truncating toward zero. It
// splits whole seconds from the rest so that it does not overflow for any
// duration (a naive d*90000 overflows past 28.5 hours).
func Ticks(d time.Duration) int64 {
	sec, rest := int64(d/time.Second), int64(d%time.Second)
	return sec*Timescale + rest*Timescale/int64(time.Second)
}

// Duration converts 90 kHz ticks to a duration, without overflow for any
// channel age a time.Duration can hold.
func Duration(ticks int64) time.Duration {
	sec, rest := ticks/Timescale, ticks%Timescale
	return time.Duration(sec)*time.Second + time.Duration(rest)*time.Second/Timescale
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Epoch is a channel's clock origin: the wall time of channel time zero.
// It is decided when the channel first receives media and persisted, so
// numbering continues across publisher sessions and process restarts.
type Epoch struct {
	Wall time.Time
}

// Mapping maps one publisher session's source timestamps onto the channel
// clock: channel = source + Offset. It also ties channel time to the ingest
// wall clock, which is where EXT-X-PROGRAM-DATE-TIME and latency figures
// come from.
//
// The wall tie starts at the arrival of the session's first keyframe and is
// refined by Observe: encoders often send their first frames late and then
// in a burst (ffmpeg by about 0.8 s), so the earliest arrival consistent
// with media time, over every frame seen, is the better estimate. Copies of
// a Mapping share the refinement.
type Mapping struct {
	Offset     int64     // ticks added to source timestamps
	Anchor     int64     // channel time of the session's first keyframe (a grid boundary)
	AnchorWall time.Time // wall time at which that keyframe reached ingest
	wall       *wallAnchor
}

// wallAnchor holds the refined wall time of the anchor, in Unix
// nanoseconds; it only ever moves earlier.
type wallAnchor struct{ ns atomic.Int64 }

// ToChannel maps a source timestamp to channel time.
func (m Mapping) ToChannel(src int64) int64 { return src + m.Offset }

// WallAt returns the ingest wall time of channel time t within the session.
func (m Mapping) WallAt(t int64) time.Time {
	base := m.AnchorWall
	if m.wall != nil {
		base = time.Unix(0, m.wall.ns.Load()).In(m.AnchorWall.Location())
	}
	return base.Add(Duration(t - m.Anchor))
}

// Observe refines the wall tie with a unit of channel time t that reached
// ingest at arrival: if it implies an earlier anchor, WallAt moves earlier
// for every copy of the mapping. Safe for concurrent use.
func (m Mapping) Observe(t int64, arrival time.Time) {
	if m.wall == nil || arrival.IsZero() {
		return
	}
	est := arrival.Add(-Duration(t - m.Anchor)).UnixNano()
	for {
		cur := m.wall.ns.Load()
		if est >= cur || m.wall.ns.CompareAndSwap(cur, est) {
			return
		}
	}
}

// NewMapping decides the mapping for a session whose first keyframe has
// source timestamp srcPTS and reached ingest at wall. The keyframe lands on
// the grid boundary at or before its wall-clock position relative to the
// epoch, but never at or before notBefore (the end of what the channel has
// already emitted), so channel time never goes back.
func NewMapping(g Grid, epoch Epoch, srcPTS int64, wall time.Time, notBefore int64) Mapping {
	d := g.SegmentTicks()
	target := floorDiv(Ticks(wall.Sub(epoch.Wall)), d) * d
	if target < notBefore {
		target = (floorDiv(notBefore-1, d) + 1) * d
	}
	if target < 0 {
		target = 0
	}
	m := Mapping{Offset: target - srcPTS, Anchor: target, AnchorWall: wall, wall: &wallAnchor{}}
	m.wall.ns.Store(wall.UnixNano())
	return m
}
