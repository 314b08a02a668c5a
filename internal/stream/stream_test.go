package stream

import (
	"context"
	"errors"
	"testing"
	"time"

	"onair/internal/media"
)

var grid = media.Grid{Segment: 2 * time.Second, Part: 500 * time.Millisecond}

func video(pts int64, key bool) media.Unit {
	return media.Unit{Kind: media.KindVideo, PTS: pts, DTS: pts, Key: key, NALUs: [][]byte{{0x65, 1, 2}}}
}

func read(t *testing.T, r *Reader) Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	ev, err := r.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestSessionMapsOntoChannelClock(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var persisted media.Epoch
	s, err := New(Config{Grid: grid, Now: func() time.Time { return now }, OnEpoch: func(e media.Epoch) { persisted = e }})
	if err != nil {
		t.Fatal(err)
	}
	r := s.NewReader()
	defer r.Close()
	p, err := s.Publish("test", &media.Track{Kind: media.KindVideo}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Frames before the first keyframe are dropped.
	p.Write(video(1000, false))
	p.Write(video(4000, true))
	p.Write(video(7000, false))
	ev := read(t, r)
	if ev.Type != EventSession || ev.Session.Mapping.Anchor != 0 {
		t.Fatalf("first event %+v", ev)
	}
	if !persisted.Wall.Equal(now) {
		t.Fatalf("epoch not persisted: %v", persisted)
	}
	if ev := read(t, r); ev.Type != EventUnit || ev.Unit.PTS != 0 || !ev.Unit.Key {
		t.Fatalf("keyframe event %+v", ev.Unit)
	}
	if ev := read(t, r); ev.Unit.PTS != 3000 {
		t.Fatalf("second frame at %d, want 3000", ev.Unit.PTS)
	}

	// A second publisher is refused while the first is active.
	if _, err := s.Publish("intruder", &media.Track{Kind: media.KindVideo}, nil); !errors.Is(err, ErrBusy) {
		t.Fatalf("second publish: %v", err)
	}
	p.Close()
	if ev := read(t, r); ev.Type != EventEnd {
		t.Fatalf("want end, got %+v", ev)
	}

	// The next session continues after what was emitted, on the grid,
	// and keeps the epoch.
	now = now.Add(5 * time.Second)
	p2, err := s.Publish("again", &media.Track{Kind: media.KindVideo}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p2.Write(video(0, true))
	ev = read(t, r)
	if ev.Type != EventSession || ev.Session.Mapping.Anchor != 4*90000 {
		t.Fatalf("second session anchor %+v, want 4 s", ev.Session)
	}
	if ev := read(t, r); ev.Unit.PTS != 4*90000 {
		t.Fatalf("second session first PTS %d", ev.Unit.PTS)
	}
}

func TestSlowReaderNeverBlocksWriter(t *testing.T) {
	s, _ := New(Config{Grid: grid, ReaderQueue: 10})
	slow := s.NewReader()
	defer slow.Close()
	fast := s.NewReaderSize(2000)
	defer fast.Close()
	p, _ := s.Publish("test", &media.Track{Kind: media.KindVideo}, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 1000; i++ {
			p.Write(video(int64(i)*3000, i%30 == 0))
		}
	}()
	got := 0
	for got < 1000 {
		ev := read(t, fast)
		if ev.Type == EventUnit {
			got++
		}
	}
	<-done
	if slow.Dropped() == 0 {
		t.Fatal("slow reader dropped nothing")
	}
	// The slow reader resumes at a keyframe.
	for {
		ev := read(t, slow)
		if ev.Type == EventUnit {
			if !ev.Unit.Key {
				t.Fatalf("slow reader resumed on a non-keyframe at %d", ev.Unit.PTS)
			}
			break
		}
	}
}

func TestCloseEndsReaders(t *testing.T) {
	s, _ := New(Config{Grid: grid})
	r := s.NewReader()
	s.Close()
	if _, err := r.Read(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if _, err := s.Publish("x", &media.Track{Kind: media.KindVideo}, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("publish after close: %v", err)
	}
}

func BenchmarkFanOut(b *testing.B) {
	s, _ := New(Config{Grid: grid, ReaderQueue: 1 << 20})
	var readers []*Reader
	for i := 0; i < 8; i++ {
		readers = append(readers, s.NewReader())
	}
	p, _ := s.Publish("bench", &media.Track{Kind: media.KindVideo}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, r := range readers {
		go func(r *Reader) {
			for {
				if _, err := r.Read(ctx); err != nil {
					return
				}
			}
		}(r)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Write(video(int64(i)*3000, i%60 == 0))
	}
}
