package origin

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"onair/internal/live"
)

// groupFixture is ch1 packaged by pipeline A (index "ch1") and B (index
// "ch1.b"), with a switchable active pipeline.
type groupFixture struct {
	*fixture
	b *live.Channel

	mu      sync.Mutex
	order   []string
	changed chan struct{}
}

func newGroupFixture(t *testing.T) *groupFixture {
	gf := &groupFixture{order: []string{live.PipelineA, live.PipelineB}, changed: make(chan struct{})}
	gf.fixture = newFixture(t, Config{Group: func(channel string) Group {
		gf.mu.Lock()
		defer gf.mu.Unlock()
		return Group{Pipelines: gf.order, Changed: gf.changed}
	}})
	gf.b = gf.idx.Channel(live.PipelineID("ch1", live.PipelineB), gf.g)
	return gf
}

func (gf *groupFixture) promote(order ...string) {
	gf.mu.Lock()
	defer gf.mu.Unlock()
	gf.order = order
	close(gf.changed)
	gf.changed = make(chan struct{})
}

// renditionB adds 720p to pipeline B with segments [0, to) complete.
func (gf *groupFixture) renditionB(to int64) *live.Rendition {
	r := gf.b.Rendition("720p")
	r.SetWindow(40)
	r.SetInit(info720(), live.InitName(true, 0), []byte("init B"))
	pt := gf.g.PartTicks()
	for n := int64(0); n < to; n++ {
		for p := range gf.g.PartsPerSegment() {
			r.AddPart(n, n*gf.g.SegmentTicks(), wallOf(n), false,
				live.Part{Index: p, Start: gf.g.PartStart(n, p), Duration: pt, Independent: p == 0}, []byte("B part"))
		}
		r.CompleteSegment(n, gf.g.SegmentTicks(), []byte("B segment"))
	}
	return r
}

func TestOriginGroupServesActiveThenStandby(t *testing.T) {
	gf := newGroupFixture(t)
	gf.rendition(info720())
	a := gf.ch.Rendition("720p")
	for n := range int64(4) {
		gf.segment(a, n, false)
	}
	gf.renditionB(6)

	rec := gf.get("/live/ch1/720p/index.m3u8")
	if rec.Code != http.StatusOK || rec.Header().Get("Onair-Pipeline") != "a" || strings.Contains(rec.Body.String(), "\n4.m4s") {
		t.Fatalf("playlist from A: %d %q\n%s", rec.Code, rec.Header().Get("Onair-Pipeline"), rec.Body)
	}
	// Segment 5 is only in B: the standby serves it.
	rec = gf.get("/live/ch1/720p/5.m4s")
	if rec.Code != http.StatusOK || rec.Body.String() != "B segment" || rec.Header().Get("Onair-Pipeline") != "b" {
		t.Fatalf("segment 5: %d %q %q", rec.Code, rec.Header().Get("Onair-Pipeline"), rec.Body)
	}
	// Segment 1 is in both: the active one's bytes.
	if rec = gf.get("/live/ch1/720p/1.m4s"); rec.Body.String() != string(segmentBytes("720p", 1)) {
		t.Fatalf("segment 1 not from A: %q", rec.Body)
	}
	gf.promote(live.PipelineB, live.PipelineA)
	rec = gf.get("/live/ch1/720p/index.m3u8")
	if rec.Header().Get("Onair-Pipeline") != "b" || !strings.Contains(rec.Body.String(), "\n5.m4s") {
		t.Fatalf("playlist after promotion: %q\n%s", rec.Header().Get("Onair-Pipeline"), rec.Body)
	}
	if rec = gf.get("/live/ch1/720p/9.m4s"); rec.Code != http.StatusNotFound {
		t.Fatalf("a segment neither has: %d", rec.Code)
	}
}

func TestOriginGroupHeldRequestFollowsPromotion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gf := newGroupFixture(t)
		gf.rendition(info720())
		a := gf.ch.Rendition("720p")
		for n := range int64(4) {
			gf.segment(a, n, false)
		}
		b := gf.renditionB(4)
		// A viewer waits for segment 4 on A; A dies, B is promoted and has it.
		p := gf.start("/live/ch1/720p/index.m3u8?_HLS_msn=4")
		defer p.cancel()
		synctest.Wait()
		if p.finished() {
			t.Fatalf("returned early: %d", p.rec.Code)
		}
		for q := range gf.g.PartsPerSegment() {
			b.AddPart(4, 4*gf.g.SegmentTicks(), wallOf(4), false,
				live.Part{Index: q, Start: gf.g.PartStart(4, q), Duration: gf.g.PartTicks(), Independent: q == 0}, []byte("B part"))
		}
		b.CompleteSegment(4, gf.g.SegmentTicks(), []byte("B segment"))
		gf.promote(live.PipelineB, live.PipelineA)
		synctest.Wait()
		if !p.finished() {
			t.Fatal("held request still waits on the demoted pipeline")
		}
		if p.rec.Code != http.StatusOK || p.rec.Header().Get("Onair-Pipeline") != "b" || !strings.Contains(p.rec.Body.String(), "\n4.m4s") {
			t.Fatalf("%d %q\n%s", p.rec.Code, p.rec.Header().Get("Onair-Pipeline"), p.rec.Body)
		}
	})
}
