package live

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"onair/internal/media"
)

var grid = media.Grid{Segment: 2 * time.Second, Part: 500 * time.Millisecond}

func addSegment(r *Rendition, n int64) {
	for p := 0; p < 4; p++ {
		r.AddPart(n, n*180000, time.Time{}, false, Part{Index: p, Start: n*180000 + int64(p)*45000, Duration: 45000, Independent: p == 0}, []byte{byte(n), byte(p)})
	}
	r.CompleteSegment(n, 180000, []byte{byte(n)})
}

func TestWaitReturnsWhenPartAppears(t *testing.T) {
	x := NewIndex(2)
	r := x.Channel("c", grid).Rendition("720p")
	r.SetInit(Info{Kind: media.KindVideo}, InitName(true, 0), []byte("init"))
	addSegment(r, 5)

	// Already there.
	if err := r.Wait(context.Background(), 5, 3); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() { got <- r.Wait(context.Background(), 6, 1) }()
	r.AddPart(6, 6*180000, time.Time{}, false, Part{Index: 0}, []byte{1})
	select {
	case err := <-got:
		t.Fatalf("returned before part 6.1 existed: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	r.AddPart(6, 6*180000, time.Time{}, false, Part{Index: 1}, []byte{2})
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("wait did not return when part 6.1 appeared")
	}
}

func TestWaitEndsWithContextAndSession(t *testing.T) {
	x := NewIndex(0)
	r := x.Channel("c", grid).Rendition("a")
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() { got <- r.Wait(ctx, 1, 0) }()
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Fatalf("wait after cancel = %v", err)
	}
	go func() { got <- r.Wait(context.Background(), 1, 0) }()
	r.End()
	if err := <-got; !errors.Is(err, ErrNotFound) {
		t.Fatalf("wait after end = %v", err)
	}
}

func TestWindowAndMemory(t *testing.T) {
	x := NewIndex(2)
	ch := x.Channel("c", grid)
	r := ch.Rendition("a")
	r.SetInit(Info{}, "init.mp4", []byte("i"))
	r.SetWindow(3)
	for n := int64(10); n < 15; n++ {
		addSegment(r, n)
	}
	snap := r.Snapshot()
	if len(snap.Segments) != 3 || snap.Segments[0].Number != 12 {
		t.Fatalf("window holds %+v", snap.Segments)
	}
	if _, ok := r.Data(12, -1); ok {
		t.Fatal("bytes of an old segment still in memory")
	}
	if b, ok := r.Data(14, 2); !ok || b[1] != 2 {
		t.Fatal("newest part bytes not in memory")
	}
	if msn, parts, ok := snap.Last(); !ok || msn != 14 || parts != 4 {
		t.Fatalf("Last = %d %d %v", msn, parts, ok)
	}
	if len(ch.Renditions()) != 1 {
		t.Fatal("rendition with init not listed")
	}
	ch.Rendition("noinit")
	if len(ch.Renditions()) != 1 {
		t.Fatal("rendition without init listed")
	}
}

func TestParseObjectName(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want ObjectName
	}{
		{"init.mp4", true, ObjectName{Init: true, Name: "init.mp4", Part: -1}},
		{"init-42.mp4", true, ObjectName{Init: true, Name: "init-42.mp4", Part: -1}},
		{"12.m4s", true, ObjectName{Segment: 12, Part: -1}},
		{"12.3.m4s", true, ObjectName{Segment: 12, Part: 3}},
		{"0.m4s", true, ObjectName{Segment: 0, Part: -1}},
		{"012.m4s", false, ObjectName{}},
		{"-1.m4s", false, ObjectName{}},
		{"1.2.3.m4s", false, ObjectName{}},
		{"../etc.m4s", false, ObjectName{}},
		{"init-.mp4", false, ObjectName{}},
		{"99999999999999999999.m4s", false, ObjectName{}},
		{"", false, ObjectName{}},
	}
	for _, tt := range tests {
		got, ok := ParseObjectName(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseObjectName(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseObjectName(f *testing.F) {
	for _, s := range []string{"init.mp4", "init-3.mp4", "1.m4s", "1.2.m4s", "x", "1..m4s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		on, ok := ParseObjectName(s)
		if !ok {
			return
		}
		// Whatever parses names a key that round-trips.
		var again string
		switch {
		case on.Init:
			again = on.Name
		case on.Part >= 0:
			again = PartKey("c", "r", on.Segment, on.Part)[4:]
		default:
			again = SegmentKey("c", "r", on.Segment)[4:]
		}
		if again != s {
			t.Fatalf("%q parsed to %+v which formats as %q", s, on, again)
		}
	})
}

func TestPipelineID(t *testing.T) {
	for _, tc := range []struct{ channel, pipeline, id string }{
		{"news", PipelineA, "news"},
		{"news", PipelineB, "news.b"},
		{"a-b-c", PipelineB, "a-b-c.b"},
	} {
		if got := PipelineID(tc.channel, tc.pipeline); got != tc.id {
			t.Errorf("PipelineID(%q, %q) = %q, want %q", tc.channel, tc.pipeline, got, tc.id)
		}
		c, p := SplitPipelineID(tc.id)
		if c != tc.channel || p != tc.pipeline {
			t.Errorf("SplitPipelineID(%q) = %q, %q", tc.id, c, p)
		}
	}
}

func TestValidChannelName(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"demo", true}, {"0", true}, {"a-b-1", true}, {strings.Repeat("a", 63), true},
		{"", false}, {"-a", false}, {"A", false}, {"a_b", false}, {"a.b", false}, {"a b", false},
		{strings.Repeat("a", 64), false}, {"é", false},
	} {
		if got := ValidChannelName(tc.in); got != tc.want {
			t.Errorf("ValidChannelName(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
