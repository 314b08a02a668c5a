package origin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// pending runs a request in its own goroutine; done closes when the
// handler returns.
type pending struct {
	rec    *httptest.ResponseRecorder
	done   chan struct{}
	cancel context.CancelFunc
}

func (f *fixture) start(target string) *pending {
	ctx, cancel := context.WithCancel(context.Background())
	p := &pending{rec: httptest.NewRecorder(), done: make(chan struct{}), cancel: cancel}
	req := httptest.NewRequest(http.MethodGet, target, nil).WithContext(ctx)
	go func() {
		defer close(p.done)
		f.h.ServeHTTP(p.rec, req)
	}()
	return p
}

func (p *pending) finished() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func TestBlockingReloadReturnsWhenPartArrives(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{})
		v720, _, _ := f.standard() // segment 6 has parts 0 and 1
		p := f.start("/live/ch1/720p/index.m3u8?_HLS_msn=6&_HLS_part=3")
		defer p.cancel()

		synctest.Wait()
		if p.finished() {
			t.Fatalf("returned before part 6.3 existed: %d %s", p.rec.Code, p.rec.Body)
		}
		f.parts(v720, 6, false, 2, 3)
		synctest.Wait()
		if p.finished() {
			t.Fatal("returned after part 6.2, before 6.3")
		}
		f.parts(v720, 6, false, 3, 4)
		synctest.Wait()
		if !p.finished() {
			t.Fatal("still held after part 6.3 arrived")
		}
		if p.rec.Code != http.StatusOK || !strings.Contains(p.rec.Body.String(), `URI="6.3.m4s"`) {
			t.Fatalf("status %d body:\n%s", p.rec.Code, p.rec.Body)
		}
		if cc := p.rec.Header().Get("Cache-Control"); cc != "public, max-age=1" {
			t.Errorf("Cache-Control %q", cc)
		}
		if got := testutil.ToFloat64(f.o.metrics.waits.WithLabelValues(holdOK)); got != 1 {
			t.Errorf("ok waits = %v", got)
		}
	})
}

func TestBlockingReloadWholeSegmentAndNextSegment(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{})
		v720, _, _ := f.standard()
		// _HLS_msn alone waits for the whole segment; a part index past
		// the last part of 6 stands for part 0 of 7.
		whole := f.start("/live/ch1/720p/index.m3u8?_HLS_msn=6")
		past := f.start("/live/ch1/720p/index.m3u8?_HLS_msn=6&_HLS_part=4")
		defer whole.cancel()
		defer past.cancel()
		f.parts(v720, 6, false, 2, 4)
		synctest.Wait()
		if whole.finished() || past.finished() {
			t.Fatal("returned before segment 6 completed")
		}
		v720.CompleteSegment(6, f.g.SegmentTicks(), segmentBytes("720p", 6))
		synctest.Wait()
		if !whole.finished() {
			t.Fatal("_HLS_msn=6 still held after segment 6 completed")
		}
		if past.finished() {
			t.Fatal("_HLS_part=4 (= 7.0) returned before part 7.0")
		}
		f.parts(v720, 7, false, 0, 1)
		synctest.Wait()
		if !past.finished() || !strings.Contains(past.rec.Body.String(), `URI="7.0.m4s"`) {
			t.Fatalf("after 7.0: finished %v body:\n%s", past.finished(), past.rec.Body)
		}
	})
}

func TestBlockingReloadEndsWhenClientLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{})
		f.standard()
		p := f.start("/live/ch1/720p/index.m3u8?_HLS_msn=7&_HLS_part=0")
		synctest.Wait()
		if p.finished() {
			t.Fatal("returned early")
		}
		p.cancel()
		synctest.Wait()
		if !p.finished() {
			t.Fatal("still held after the client went away")
		}
		if p.rec.Body.Len() != 0 {
			t.Errorf("wrote %q to a client that left", p.rec.Body)
		}
		if got := testutil.ToFloat64(f.o.metrics.requests.WithLabelValues("media", "499")); got != 1 {
			t.Errorf("requests{media,499} = %v", got)
		}
		if got := testutil.ToFloat64(f.o.metrics.waits.WithLabelValues(holdCanceled)); got != 1 {
			t.Errorf("canceled waits = %v", got)
		}
	})
}

func TestBlockingReloadTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{}) // default: 3 x D = 6 s
		f.standard()
		start := time.Now()
		p := f.start("/live/ch1/720p/index.m3u8?_HLS_msn=8")
		defer p.cancel()
		time.Sleep(6*time.Second - time.Millisecond)
		synctest.Wait()
		if p.finished() {
			t.Fatal("gave up before the block timeout")
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if !p.finished() {
			t.Fatalf("still held %v after the block timeout", time.Since(start))
		}
		h := p.rec.Header()
		if p.rec.Code != http.StatusServiceUnavailable || h.Get("Retry-After") != "1" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("status %d headers %v", p.rec.Code, h)
		}
		if strings.Contains(p.rec.Body.String(), "segment") {
			t.Errorf("internal detail leaked: %q", p.rec.Body)
		}
	})
}

func TestBlockingReloadEndedRendition(t *testing.T) {
	f := newFixture(t, Config{})
	v720, _, _ := f.standard()
	v720.DropIncomplete()
	rec := f.get("/live/ch1/720p/index.m3u8?_HLS_msn=6&_HLS_part=3")
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d", rec.Code)
	}
	// Without the directive the playlist is served, without a hint.
	b := body(t, f.get("/live/ch1/720p/index.m3u8"))
	if strings.Contains(b, "PRELOAD-HINT") || strings.Contains(b, "6.0.m4s") {
		t.Errorf("ended rendition playlist:\n%s", b)
	}
}

func TestBlockingReloadAlreadySatisfied(t *testing.T) {
	f := newFixture(t, Config{})
	f.standard()
	for _, q := range []string{"_HLS_msn=2", "_HLS_msn=6&_HLS_part=1", "_HLS_msn=0&_HLS_part=0", "_HLS_msn=6&_HLS_part=0&_HLS_skip=YES"} {
		if rec := f.get("/live/ch1/720p/index.m3u8?" + q); rec.Code != http.StatusOK {
			t.Errorf("%s: status %d", q, rec.Code)
		}
	}
}

func TestFuturePartHeldThenServed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{})
		v720, _, _ := f.standard()
		hinted := f.start("/live/ch1/720p/6.2.m4s")
		next := f.start("/live/ch1/720p/6.m4s")
		nextSeg := f.start("/live/ch1/720p/7.0.m4s")
		defer hinted.cancel()
		defer next.cancel()
		defer nextSeg.cancel()
		synctest.Wait()
		if hinted.finished() || next.finished() || nextSeg.finished() {
			t.Fatal("a not-yet-existing object was answered at once")
		}
		f.parts(v720, 6, false, 2, 3)
		synctest.Wait()
		if !hinted.finished() {
			t.Fatal("part 6.2 still held after it arrived")
		}
		if hinted.rec.Code != http.StatusOK || hinted.rec.Body.String() != string(partBytes("720p", 6, 2)) {
			t.Errorf("part 6.2: %d %q", hinted.rec.Code, hinted.rec.Body)
		}
		if cc := hinted.rec.Header().Get("Cache-Control"); cc != "public, max-age=12" {
			t.Errorf("part Cache-Control %q", cc)
		}
		f.parts(v720, 6, false, 3, 4)
		v720.CompleteSegment(6, f.g.SegmentTicks(), segmentBytes("720p", 6))
		synctest.Wait()
		if !next.finished() || next.rec.Body.String() != string(segmentBytes("720p", 6)) {
			t.Errorf("segment 6: finished %v %q", next.finished(), next.rec.Body)
		}
		f.parts(v720, 7, false, 0, 1)
		synctest.Wait()
		if !nextSeg.finished() || nextSeg.rec.Code != http.StatusOK {
			t.Errorf("part 7.0: finished %v status %d", nextSeg.finished(), nextSeg.rec.Code)
		}
	})
}

func TestFuturePartTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, Config{BlockTimeout: time.Second})
		f.standard()
		p := f.start("/live/ch1/720p/6.3.m4s")
		defer p.cancel()
		time.Sleep(time.Second)
		synctest.Wait()
		if !p.finished() || p.rec.Code != http.StatusServiceUnavailable || p.rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("finished %v status %d headers %v", p.finished(), p.rec.Code, p.rec.Header())
		}
	})
}

func TestFarFutureNotFound(t *testing.T) {
	f := newFixture(t, Config{})
	f.standard() // newest: 6, in progress
	for _, path := range []string{
		"/live/ch1/720p/8.0.m4s",   // two segments ahead
		"/live/ch1/720p/8.m4s",     // two segments ahead
		"/live/ch1/720p/99999.m4s", // far ahead
		"/live/ch1/720p/6.4.m4s",   // part index past the grid
		"/live/ch1/720p/5.7.m4s",   // part index past the grid
		"/live/ch1/720p/init-9.mp4",
	} {
		rec := f.get(path)
		if rec.Code != http.StatusNotFound || rec.Header().Get("Cache-Control") != "public, max-age=1" {
			t.Errorf("%s: status %d Cache-Control %q", path, rec.Code, rec.Header().Get("Cache-Control"))
		}
	}
}
