package origin

import (
	"testing"
	"time"

	"onair/internal/live"
)

func TestAlignWalls(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seg := func(n int64, wallOffset time.Duration, disc bool) live.Segment {
		return live.Segment{Number: n, Start: n * 180000, Wall: t0.Add(time.Duration(n)*2*time.Second + wallOffset), Discontinuity: disc}
	}
	segs := []live.Segment{
		seg(10, 800*time.Millisecond, false), // dated before the wall tie was refined
		seg(11, 0, false),
		seg(12, 0, false),
		seg(20, 5*time.Second, true), // a later session: its own run
		seg(21, 5*time.Second, false),
	}
	alignWalls(segs)
	want := []time.Duration{20 * time.Second, 22 * time.Second, 24 * time.Second, 45 * time.Second, 47 * time.Second}
	for i, w := range want {
		if got := segs[i].Wall.Sub(t0); got != w {
			t.Errorf("segment %d dated %v, want %v", segs[i].Number, got, w)
		}
	}
}
