package origin

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/live"
	"onair/internal/media"
	"onair/internal/objstore"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Fixed times: channel time 0, and "now" for MPD publishTime and /time.
func epochWall() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
func fixedNow() time.Time  { return epochWall().Add(13*time.Second + 250*time.Millisecond) }

// fixture is one channel "ch1" (D = 2 s, P = 500 ms) behind an origin, with
// a filesystem store that receives every object, as the packager would.
type fixture struct {
	t     testing.TB
	idx   *live.Index
	ch    *live.Channel
	g     media.Grid
	store *objstore.FS
	reg   *prometheus.Registry
	o     *Origin
	h     http.Handler
}

func newFixture(t testing.TB, cfg Config) *fixture {
	t.Helper()
	idx := live.NewIndex(4)
	g := media.Grid{Segment: 2 * time.Second, Part: 500 * time.Millisecond}
	ch := idx.Channel("ch1", g)
	ch.SetEpoch(media.Epoch{Wall: epochWall()})
	store, err := objstore.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Now == nil {
		cfg.Now = fixedNow
	}
	reg := prometheus.NewRegistry()
	o, err := New(cfg, idx, store, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, idx: idx, ch: ch, g: g, store: store, reg: reg, o: o, h: o.Handler()}
}

func info720() live.Info {
	return live.Info{Name: "720p", Kind: media.KindVideo, Codecs: "avc1.64001f", Width: 1280, Height: 720, FPS: 30,
		Bandwidth: 3_000_000, Average: 2_400_000, Timescale: 90000}
}

func info360() live.Info {
	return live.Info{Name: "360p", Kind: media.KindVideo, Codecs: "avc1.4d401e", Width: 640, Height: 360, FPS: 29.97,
		Bandwidth: 800_000, Average: 650_000, Timescale: 90000}
}

func infoAudio() live.Info {
	return live.Info{Name: "audio", Kind: media.KindAudio, Codecs: "mp4a.40.2", Bandwidth: 128_000, Average: 125_000,
		Timescale: 48000, Channels: 2}
}

// rendition creates a rendition with its first init segment.
func (f *fixture) rendition(info live.Info) *live.Rendition {
	r := f.ch.Rendition(info.Name)
	r.SetWindow(40)
	r.SetInit(info, live.InitName(true, 0), []byte("init "+info.Name))
	f.put(live.InitKey("ch1", info.Name, "init.mp4"), []byte("init "+info.Name))
	return r
}

// standard creates 720p, 360p and audio with segments 0..5 complete and
// segment 6 in progress with two parts.
func (f *fixture) standard() (v720, v360, audio *live.Rendition) {
	v720, v360, audio = f.rendition(info720()), f.rendition(info360()), f.rendition(infoAudio())
	for _, r := range []*live.Rendition{v720, v360, audio} {
		for n := int64(0); n < 6; n++ {
			f.segment(r, n, false)
		}
		f.parts(r, 6, false, 0, 2)
	}
	return v720, v360, audio
}

func wallOf(n int64) time.Time {
	return epochWall().Add(time.Duration(n)*2*time.Second + 150*time.Millisecond)
}

func partBytes(r string, n int64, p int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("%s part %d.%d;", r, n, p)), 4)
}

func segmentBytes(r string, n int64) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("%s segment %d;", r, n)), 10)
}

// parts adds parts [from, to) of segment n.
func (f *fixture) parts(r *live.Rendition, n int64, disc bool, from, to int) {
	pt := f.g.PartTicks()
	for p := from; p < to; p++ {
		data := partBytes(r.Name(), n, p)
		r.AddPart(n, n*f.g.SegmentTicks(), wallOf(n), disc,
			live.Part{Index: p, Start: f.g.PartStart(n, p), Duration: pt, Independent: p == 0}, data)
		f.put(live.PartKey("ch1", r.Name(), n, p), data)
	}
}

// segment adds every part of segment n and completes it.
func (f *fixture) segment(r *live.Rendition, n int64, disc bool) {
	f.parts(r, n, disc, 0, f.g.PartsPerSegment())
	data := segmentBytes(r.Name(), n)
	r.CompleteSegment(n, f.g.SegmentTicks(), data)
	f.put(live.SegmentKey("ch1", r.Name(), n), data)
}

func (f *fixture) put(key string, data []byte) {
	if err := f.store.Put(context.Background(), key, data); err != nil {
		f.t.Fatal(err)
	}
}

// do sends a request through the handler; extra is "Header: value" pairs.
func (f *fixture) do(method, target string, extra ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for _, h := range extra {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

func (f *fixture) get(target string) *httptest.ResponseRecorder { return f.do(http.MethodGet, target) }

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func body(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	b, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
