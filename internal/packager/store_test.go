package packager

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"onair/internal/live"
	"onair/internal/media"
	"onair/internal/objstore"
)

// flakyStore fails every Put with ENOSPC while failing is set, like a full
// disk.
type flakyStore struct {
	objstore.Store
	failing atomic.Bool
}

func (s *flakyStore) Put(ctx context.Context, key string, data []byte) error {
	if s.failing.Load() {
		return fmt.Errorf("objstore: put %s: %w", key, syscall.ENOSPC)
	}
	return s.Store.Put(ctx, key, data)
}

func audioRendition() Rendition {
	return Rendition{Name: "audio", Track: media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, AudioConfig: []byte{0x11, 0x90}}}
}

// syntheticAudio returns seconds of 48 kHz AAC-sized frames from segment
// anchorSeg on.
func syntheticAudio(seconds int) []media.Unit {
	frames := make([][]byte, seconds*48000/1024)
	for i := range frames {
		frames[i] = make([]byte, 200)
		frames[i][0] = byte(i)
	}
	return audioUnits(frames, 48000, anchorSeg*segTicks)
}

// objectKeys lists the rendition's segment and part keys that a snapshot
// (or a list of segments) references.
func objectKeys(rendition string, segs []live.Segment) []string {
	var keys []string
	for _, s := range segs {
		keys = append(keys, live.SegmentKey("ch", rendition, s.Number))
		for i := range s.Parts {
			keys = append(keys, live.PartKey("ch", rendition, s.Number, i))
		}
	}
	return keys
}

func (f *fixture) exists(t testing.TB, key string) bool {
	t.Helper()
	_, err := f.store.Get(context.Background(), key)
	if err != nil && !errors.Is(err, objstore.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestWindowAndRetention(t *testing.T) {
	units := syntheticAudio(16) // segments 100..107
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{Window: 6 * time.Second, Retention: time.Minute}, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- f.p.Run(ctx) }()

		// Record every segment as it completes, before the window trims it.
		tr, err := f.p.Open("ch", audioRendition())
		if err != nil {
			t.Fatal(err)
		}
		var all []live.Segment
		for _, u := range units {
			if err := tr.Write(u); err != nil {
				t.Fatal(err)
			}
			snap := f.snapshot(t, "audio")
			for _, s := range snap.Segments {
				if s.Complete && (len(all) == 0 || s.Number > all[len(all)-1].Number) {
					all = append(all, s)
				}
			}
		}
		tr.Close()
		all = append(all, f.snapshot(t, "audio").Segments[len(f.snapshot(t, "audio").Segments)-1])

		snap := f.snapshot(t, "audio")
		if got := len(snap.Segments); got != 3 {
			t.Fatalf("window holds %d segments, want 3", got)
		}
		if len(all) != 8 || all[0].Number != anchorSeg || all[7].Number != anchorSeg+7 {
			t.Fatalf("saw %d segments", len(all))
		}
		gone, kept := objectKeys("audio", all[:5]), objectKeys("audio", all[5:])

		synctest.Wait()
		time.Sleep(59 * time.Second)
		synctest.Wait()
		for _, k := range gone {
			if !f.exists(t, k) {
				t.Fatalf("%s deleted before its retention is up", k)
			}
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		for _, k := range gone {
			if f.exists(t, k) {
				t.Errorf("%s still stored after retention", k)
			}
		}
		for _, k := range append(kept, live.InitKey("ch", "audio", "init.mp4")) {
			if !f.exists(t, k) {
				t.Errorf("%s (in the window) deleted", k)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v on cancel", err)
		}
	})
}

func TestStoreFailureRetried(t *testing.T) {
	tests := []struct {
		name        string
		budget      int
		wantAll     bool // every object reaches the store once it recovers
		wantDropped bool
	}{
		{name: "transient ENOSPC loses nothing", wantAll: true},
		{name: "over the retry budget drops the oldest", budget: 8 << 10, wantDropped: true},
	}
	units := syntheticAudio(6) // segments 100..102
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fs, err := objstore.NewFS(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				store := &flakyStore{Store: fs}
				store.failing.Store(true)
				f := newFixture(t, Config{RetryBudget: tc.budget}, store)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error)
				go func() { done <- f.p.Run(ctx) }()

				f.write(t, audioRendition(), units)
				snap := f.snapshot(t, "audio")
				if len(snap.Segments) != 3 || !snap.Segments[2].Complete {
					t.Fatalf("index has %d segments while storage fails", len(snap.Segments))
				}
				// Viewers are served from memory meanwhile.
				ch, _ := f.index.Lookup("ch")
				r, _ := ch.Lookup("audio")
				if b, ok := r.Data(anchorSeg+2, 0); !ok || len(b) == 0 {
					t.Error("newest part not in memory")
				}
				if got := testutil.ToFloat64(f.p.m.storeErrors.WithLabelValues("put")); got < 1 {
					t.Errorf("storage errors %v", got)
				}
				if f.p.w.queuedBytes() == 0 {
					t.Fatal("nothing queued for retry")
				}
				if got := testutil.ToFloat64(f.p.m.retryBytes); int(got) != f.p.w.queuedBytes() {
					t.Errorf("retry queue gauge %v, queue %d", got, f.p.w.queuedBytes())
				}

				// Still failing: retries back off, nothing is lost yet.
				time.Sleep(10 * time.Second)
				synctest.Wait()
				store.failing.Store(false)
				time.Sleep(retryBackoffMax + time.Second)
				synctest.Wait()

				if q := f.p.w.queuedBytes(); q != 0 {
					t.Errorf("retry queue still holds %d bytes after recovery", q)
				}
				keys := append(objectKeys("audio", snap.Segments), live.InitKey("ch", "audio", "init.mp4"))
				missing := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return f.exists(t, k) })
				if tc.wantAll && len(missing) > 0 {
					t.Errorf("lost after recovery: %v", missing)
				}
				dropped := testutil.ToFloat64(f.p.m.retryDropped)
				if tc.wantDropped && (dropped == 0 || len(missing) == 0) {
					t.Errorf("dropped %v objects, %d missing: want the oldest dropped", dropped, len(missing))
				}
				if tc.wantDropped && f.exists(t, live.SegmentKey("ch", "audio", anchorSeg+2)) == false {
					t.Error("the newest segment was dropped instead of the oldest objects")
				}
				cancel()
				<-done
			})
		})
	}
}

func TestShutdownFlushesRetryQueue(t *testing.T) {
	units := syntheticAudio(2)
	synctest.Test(t, func(t *testing.T) {
		fs, err := objstore.NewFS(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		store := &flakyStore{Store: fs}
		store.failing.Store(true)
		f := newFixture(t, Config{}, store)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- f.p.Run(ctx) }()
		f.write(t, audioRendition(), units)
		store.failing.Store(false)
		cancel() // before the backoff is over: Run flushes on the way out
		<-done
		if q := f.p.w.queuedBytes(); q != 0 {
			t.Errorf("%d bytes left in the retry queue after Run returned", q)
		}
		if !f.exists(t, live.SegmentKey("ch", "audio", anchorSeg)) {
			t.Error("segment not flushed on shutdown")
		}
	})
}
