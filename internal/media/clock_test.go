package media

import (
	"testing"
	"time"
)

func TestGrid(t *testing.T) {
	g := Grid{Segment: 2 * time.Second, Part: 500 * time.Millisecond}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		t         int64
		seg       int64
		part      int
		segStart  int64
		partStart int64
	}{
		{0, 0, 0, 0, 0},
		{44999, 0, 0, 0, 0},
		{45000, 0, 1, 0, 45000},
		{179999, 0, 3, 0, 135000},
		{180000, 1, 0, 180000, 180000},
		{-1, -1, 3, -180000, -45000},
	}
	for _, tt := range tests {
		seg, part := g.PartAt(tt.t)
		if seg != tt.seg || part != tt.part || g.SegmentAt(tt.t) != tt.seg {
			t.Errorf("PartAt(%d) = %d.%d, want %d.%d", tt.t, seg, part, tt.seg, tt.part)
		}
		if got := g.SegmentStart(seg); got != tt.segStart {
			t.Errorf("SegmentStart(%d) = %d, want %d", seg, got, tt.segStart)
		}
		if got := g.PartStart(seg, part); got != tt.partStart {
			t.Errorf("PartStart(%d,%d) = %d, want %d", seg, part, got, tt.partStart)
		}
	}
}

func TestGridValidate(t *testing.T) {
	bad := []Grid{
		{Segment: 2 * time.Second, Part: 300 * time.Millisecond},
		{Segment: 0, Part: 0},
		{Segment: time.Second, Part: 2 * time.Second},
		{Segment: 3 * time.Microsecond, Part: time.Microsecond},
	}
	for _, g := range bad {
		if g.Validate() == nil {
			t.Errorf("%+v: want error", g)
		}
	}
	if err := (Grid{Segment: 2 * time.Second, Part: 200 * time.Millisecond}).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestNewMapping(t *testing.T) {
	g := Grid{Segment: 2 * time.Second, Part: 500 * time.Millisecond}
	epoch := Epoch{Wall: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	tests := []struct {
		name       string
		wall       time.Duration // after epoch
		src        int64
		notBefore  int64
		wantAnchor int64
	}{
		{"first session at the epoch", 0, 1234, 0, 0},
		{"later session floors to the grid", 7*time.Second + 300*time.Millisecond, 99, 0, 6 * 90000},
		{"never before what was emitted", 7 * time.Second, 0, 6*90000 + 5, 8 * 90000},
		{"exactly at notBefore boundary", 7 * time.Second, 0, 6 * 90000, 6 * 90000},
		{"clock before epoch clamps to zero", -5 * time.Second, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := epoch.Wall.Add(tt.wall)
			m := NewMapping(g, epoch, tt.src, w, tt.notBefore)
			if m.Anchor != tt.wantAnchor {
				t.Fatalf("anchor = %d, want %d", m.Anchor, tt.wantAnchor)
			}
			if m.ToChannel(tt.src) != m.Anchor {
				t.Fatalf("first keyframe maps to %d, want the anchor %d", m.ToChannel(tt.src), m.Anchor)
			}
			if m.Anchor%g.SegmentTicks() != 0 {
				t.Fatal("anchor is not a grid boundary")
			}
			if !m.WallAt(m.Anchor + 90000).Equal(w.Add(time.Second)) {
				t.Fatal("WallAt is not anchored at the keyframe's arrival")
			}
		})
	}
}

func TestFit(t *testing.T) {
	src := Track{Kind: KindVideo, Width: 1280, Height: 720, FPS: 30}
	got := Fit(DefaultLadder(), src)
	var names []string
	for _, r := range got {
		names = append(names, r.Name)
		if r.Height > 720 || r.FPS > 30 {
			t.Errorf("%s exceeds the source", r.Name)
		}
		if r.Width%2 != 0 || r.Width == 0 {
			t.Errorf("%s width %d", r.Name, r.Width)
		}
	}
	want := []string{"480p30", "360p30", "240p30", "160p30"}
	if len(names) != len(want) {
		t.Fatalf("Fit = %v, want %v (720p60 dropped: source is 30 fps)", names, want)
	}
	got60 := Fit(DefaultLadder(), Track{Width: 1920, Height: 1080, FPS: 59.94})
	if len(got60) != 6 || got60[0].Width != 1920 {
		t.Fatalf("1080p59.94 source keeps the whole ladder: %+v", got60)
	}
}

func TestTicksDurationNoOverflow(t *testing.T) {
	tests := []struct {
		d     time.Duration
		ticks int64
	}{
		{0, 0},
		{time.Second, 90000},
		{11111 * time.Microsecond, 999}, // truncates
		{-time.Second, -90000},
		{30 * time.Hour, 30 * 3600 * 90000}, // past the naive overflow point
		{24 * 365 * 10 * time.Hour, 24 * 365 * 10 * 3600 * 90000},
	}
	for _, tt := range tests {
		if got := Ticks(tt.d); got != tt.ticks {
			t.Errorf("Ticks(%v) = %d, want %d", tt.d, got, tt.ticks)
		}
		if tt.d%time.Second == 0 {
			if got := Duration(tt.ticks); got != tt.d {
				t.Errorf("Duration(%d) = %v, want %v", tt.ticks, got, tt.d)
			}
		}
	}
	// A channel 30 hours old still maps onto its grid.
	g := Grid{Segment: 2 * time.Second, Part: 500 * time.Millisecond}
	epoch := Epoch{Wall: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := NewMapping(g, epoch, 0, epoch.Wall.Add(30*time.Hour+time.Second), 0)
	if m.Anchor != 30*3600*90000 {
		t.Fatalf("anchor after 30 h = %d", m.Anchor)
	}
}

func TestMappingObserveRefinesWallTie(t *testing.T) {
	g := Grid{Segment: 2 * time.Second, Part: 500 * time.Millisecond}
	epoch := Epoch{Wall: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	// The first keyframe arrives 800 ms late; later frames on time.
	late := epoch.Wall.Add(800 * time.Millisecond)
	m := NewMapping(g, epoch, 0, late, 0)
	copyOf := m
	m.Observe(m.Anchor+3000, late)                                    // burst: no better
	m.Observe(m.Anchor+90000, epoch.Wall.Add(time.Second))            // 1 s of media arrived at +1 s
	m.Observe(m.Anchor+180000, epoch.Wall.Add(2100*time.Millisecond)) // jitter late: ignored
	if got := copyOf.WallAt(m.Anchor); !got.Equal(epoch.Wall) {
		t.Fatalf("refined anchor wall %v, want %v (shared by copies)", got, epoch.Wall)
	}
	if got := m.WallAt(m.Anchor + 45000); !got.Equal(epoch.Wall.Add(500 * time.Millisecond)) {
		t.Fatalf("WallAt = %v", got)
	}
	var zero Mapping
	zero.Observe(0, late) // no panic on a zero Mapping
}
