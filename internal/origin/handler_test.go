package origin

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRejectedRequests(t *testing.T) {
	f := newFixture(t, Config{})
	f.standard()
	long := "/live/ch1/720p/" + strings.Repeat("1", 600) + ".m4s"
	for _, tc := range []struct {
		method, target string
		status         int
		cache          string
	}{
		{"GET", "/live/ch1/../etc/passwd", 400, "no-store"},
		{"GET", "/live/ch1/720p/../../x", 400, "no-store"},
		{"GET", "/live/ch1/./master.m3u8", 400, "no-store"},
		{"GET", "/live/ch1/%2e%2e/master.m3u8", 400, "no-store"},
		{"GET", "/live/ch1/720p%2Findex.m3u8", 400, "no-store"},
		{"GET", "/live/ch1/720p/..%2f..%2fetc%2fpasswd", 400, "no-store"},
		{"GET", "/live/ch1/720p/a%20b.m4s", 400, "no-store"},
		{"GET", "/live//720p/index.m3u8", 400, "no-store"},
		{"GET", "/live/ch1/720p/", 400, "no-store"},
		{"GET", "/live/ch1/720p/index.m3u8/", 400, "no-store"},
		{"GET", "/live/", 400, "no-store"},
		{"GET", "/live/ch1/.hidden/index.m3u8", 400, "no-store"},
		{"GET", "/live/" + strings.Repeat("c", 65) + "/master.m3u8", 400, "no-store"},
		{"GET", "/live/ch1/" + strings.Repeat("r", 65) + "/index.m3u8", 400, "no-store"},
		{"GET", long, 414, "no-store"},
		{"GET", "/other", 404, "no-store"},
		{"GET", "/live/ch1", 404, "no-store"},
		{"GET", "/live/ch1/720p", 404, "no-store"},
		{"GET", "/live/ch1/720p/00.m4s", 404, "no-store"},
		{"GET", "/live/ch1/720p/-1.m4s", 404, "no-store"},
		{"GET", "/live/ch1/720p/1.m4s.bak", 404, "no-store"},
		{"GET", "/live/ch1/720p/index.m3u", 404, "no-store"},
		{"GET", "/live/ch1/720p/a/b/c", 404, "no-store"},
		{"GET", "/live/nochannel/master.m3u8", 404, "public, max-age=1"},
		{"GET", "/live/nochannel/manifest.mpd", 404, "public, max-age=1"},
		{"GET", "/live/nochannel/720p/1.m4s", 404, "public, max-age=1"},
		{"GET", "/live/ch1/1080p/index.m3u8", 404, "public, max-age=1"},
		{"GET", "/live/ch1/1080p/init.mp4", 404, "public, max-age=1"},
		{"GET", "/live/ch1/720p/index.m3u8?_HLS_msn=abc", 400, "no-store"},
		{"GET", "/live/ch1/720p/index.m3u8?_HLS_msn=-1", 400, "no-store"},
		{"GET", "/live/ch1/720p/index.m3u8?_HLS_msn=1&_HLS_msn=2", 400, "no-store"},
		{"GET", "/live/ch1/720p/index.m3u8?_HLS_part=1", 400, "no-store"},
		{"GET", "/live/ch1/720p/index.m3u8?_HLS_msn=6&_HLS_part=x", 400, "no-store"},
		{"GET", "/live/ch1/720p/index.m3u8?_HLS_msn=6&_HLS_part=1001", 400, "no-store"},
		{"GET", "/live/ch1/720p/index.m3u8?_HLS_msn=9", 400, "no-store"}, // newest 6, + 2 = 8
		{"GET", "/live/ch1/720p/index.m3u8?%zz", 400, "no-store"},
		{"POST", "/live/ch1/720p/index.m3u8", 405, "no-store"},
		{"PUT", "/live/ch1/720p/1.m4s", 405, "no-store"},
		{"DELETE", "/live/ch1/master.m3u8", 405, "no-store"},
	} {
		rec := f.do(tc.method, tc.target)
		if rec.Code != tc.status || rec.Header().Get("Cache-Control") != tc.cache {
			t.Errorf("%s %.80s: status %d Cache-Control %q, want %d %q", tc.method, tc.target, rec.Code,
				rec.Header().Get("Cache-Control"), tc.status, tc.cache)
		}
		if b := rec.Body.String(); b != http.StatusText(tc.status)+"\n" {
			t.Errorf("%s %.80s: body %q exposes more than the status", tc.method, tc.target, b)
		}
		if rec.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s %.80s: no CORS header", tc.method, tc.target)
		}
		if tc.status == 405 && rec.Header().Get("Allow") != "GET, HEAD, OPTIONS" {
			t.Errorf("405 without Allow")
		}
	}
}

func TestCacheControlAndContentType(t *testing.T) {
	f := newFixture(t, Config{})
	f.standard()
	for _, tc := range []struct {
		target, cache, ctype string
	}{
		{"/live/ch1/master.m3u8", "public, max-age=1", "application/vnd.apple.mpegurl"},
		{"/live/ch1/720p/index.m3u8", "public, max-age=1", "application/vnd.apple.mpegurl"},
		{"/live/ch1/720p/index.m3u8?_HLS_msn=6&_HLS_part=1", "public, max-age=1", "application/vnd.apple.mpegurl"},
		{"/live/ch1/manifest.mpd", "public, max-age=1", "application/dash+xml"},
		{"/live/ch1/720p/init.mp4", "public, max-age=12", "video/mp4"},
		{"/live/ch1/audio/init.mp4", "public, max-age=12", "video/mp4"},
		{"/live/ch1/720p/5.m4s", "public, max-age=12", "video/iso.segment"},
		{"/live/ch1/720p/0.m4s", "public, max-age=12", "video/iso.segment"}, // from storage
		{"/live/ch1/720p/6.1.m4s", "public, max-age=12", "video/iso.segment"},
		{"/live/ch1/720p/0.2.m4s", "public, max-age=12", "video/iso.segment"}, // from storage
		{"/time", "no-store", "text/plain; charset=utf-8"},
	} {
		rec := f.get(tc.target)
		h := rec.Header()
		if rec.Code != http.StatusOK || h.Get("Cache-Control") != tc.cache || h.Get("Content-Type") != tc.ctype ||
			h.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: status %d Cache-Control %q Content-Type %q CORS %q", tc.target, rec.Code,
				h.Get("Cache-Control"), h.Get("Content-Type"), h.Get("Access-Control-Allow-Origin"))
		}
		if h.Get("Content-Length") != strconv.Itoa(rec.Body.Len()) {
			t.Errorf("%s: Content-Length %s, body %d", tc.target, h.Get("Content-Length"), rec.Body.Len())
		}
	}
}

func TestObjectsFromMemoryAndStorage(t *testing.T) {
	f := newFixture(t, Config{})
	f.standard()
	// The index keeps the bytes of the newest 4 segments; 0 and 1 come
	// from storage.
	for _, n := range []int64{0, 1, 5} {
		if got := body(t, f.get("/live/ch1/360p/"+segmentURI(n))); got != string(segmentBytes("360p", n)) {
			t.Errorf("segment %d = %.40q", n, got)
		}
	}
	if got := body(t, f.get("/live/ch1/360p/0.3.m4s")); got != string(partBytes("360p", 0, 3)) {
		t.Errorf("part 0.3 = %.40q", got)
	}
	// Gone from memory and storage.
	if err := f.store.Delete(t.Context(), "ch1/360p/1.m4s"); err != nil {
		t.Fatal(err)
	}
	if rec := f.get("/live/ch1/360p/1.m4s"); rec.Code != http.StatusNotFound || rec.Header().Get("Cache-Control") != "public, max-age=1" {
		t.Errorf("deleted segment: status %d", rec.Code)
	}
}

func TestRangeAndHead(t *testing.T) {
	f := newFixture(t, Config{})
	f.standard()
	full := segmentBytes("720p", 5)
	size := strconv.Itoa(len(full))
	for _, tc := range []struct {
		name   string
		hdr    []string
		status int
		want   string
		crange string
	}{
		{"none", nil, 200, string(full), ""},
		{"first ten", []string{"Range: bytes=0-9"}, 206, string(full[:10]), "bytes 0-9/" + size},
		{"open", []string{"Range: bytes=100-"}, 206, string(full[100:]), "bytes 100-" + strconv.Itoa(len(full)-1) + "/" + size},
		{"suffix", []string{"Range: bytes=-5"}, 206, string(full[len(full)-5:]), "bytes " + strconv.Itoa(len(full)-5) + "-" + strconv.Itoa(len(full)-1) + "/" + size},
		{"end clamped", []string{"Range: bytes=10-100000"}, 206, string(full[10:]), "bytes 10-" + strconv.Itoa(len(full)-1) + "/" + size},
		{"beyond", []string{"Range: bytes=100000-"}, 416, "", "bytes */" + size},
		{"reversed", []string{"Range: bytes=9-3"}, 416, "", "bytes */" + size},
		{"garbage", []string{"Range: bytes=abc"}, 416, "", "bytes */" + size},
		{"other unit", []string{"Range: items=0-1"}, 416, "", "bytes */" + size},
		{"multi", []string{"Range: bytes=0-1,5-6"}, 200, string(full), ""},
		{"if-range", []string{"Range: bytes=0-9", `If-Range: "x"`}, 200, string(full), ""},
	} {
		rec := f.do(http.MethodGet, "/live/ch1/720p/5.m4s", tc.hdr...)
		if rec.Code != tc.status || rec.Header().Get("Content-Range") != tc.crange {
			t.Errorf("%s: status %d Content-Range %q, want %d %q", tc.name, rec.Code, rec.Header().Get("Content-Range"), tc.status, tc.crange)
		}
		if tc.status < 300 && rec.Body.String() != tc.want {
			t.Errorf("%s: body %.40q", tc.name, rec.Body)
		}
		if tc.status == 416 && rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: 416 Cache-Control %q", tc.name, rec.Header().Get("Cache-Control"))
		}
	}

	for _, target := range []string{"/live/ch1/720p/5.m4s", "/live/ch1/720p/index.m3u8", "/live/ch1/manifest.mpd", "/live/ch1/master.m3u8"} {
		get, head := f.get(target), f.do(http.MethodHead, target)
		if head.Code != http.StatusOK || head.Body.Len() != 0 ||
			head.Header().Get("Content-Length") != strconv.Itoa(get.Body.Len()) ||
			head.Header().Get("Cache-Control") != get.Header().Get("Cache-Control") {
			t.Errorf("HEAD %s: status %d body %d Content-Length %s (GET body %d)", target, head.Code, head.Body.Len(),
				head.Header().Get("Content-Length"), get.Body.Len())
		}
	}
	if rec := f.do(http.MethodHead, "/live/ch1/720p/5.m4s", "Range: bytes=0-9"); rec.Code != 206 || rec.Header().Get("Content-Length") != "10" {
		t.Errorf("HEAD with Range: %d %v", rec.Code, rec.Header())
	}
}

func TestPreflight(t *testing.T) {
	f := newFixture(t, Config{})
	rec := f.do(http.MethodOptions, "/live/ch1/720p/5.m4s", "Access-Control-Request-Method: GET", "Origin: http://player.example")
	h := rec.Header()
	if rec.Code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "GET") || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Range") {
		t.Errorf("preflight %d %v", rec.Code, h)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, Config{})
	f.standard()
	f.get("/live/ch1/720p/5.m4s")
	f.get("/live/ch1/720p/5.m4s")
	f.get("/live/ch1/720p/5.2.m4s")
	f.get("/live/ch1/720p/index.m3u8")
	f.get("/live/ch1/master.m3u8")
	f.get("/live/ch1/manifest.mpd")
	f.get("/live/ch1/720p/init.mp4")
	f.get("/live/ch1/720p/999.m4s")
	f.get("/live/x/../y")
	for _, tc := range []struct {
		kind, code string
		want       float64
	}{
		{"segment", "200", 2}, {"part", "200", 1}, {"media", "200", 1}, {"master", "200", 1},
		{"mpd", "200", 1}, {"init", "200", 1}, {"segment", "404", 1}, {"other", "400", 1},
	} {
		if got := testutil.ToFloat64(f.o.metrics.requests.WithLabelValues(tc.kind, tc.code)); got != tc.want {
			t.Errorf("requests{%s,%s} = %v, want %v", tc.kind, tc.code, got, tc.want)
		}
	}
	// The manifest age is computed at scrape time for every rendition.
	families, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, mf := range families {
		if mf.GetName() != "onair_manifest_age_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			found++
			if m.GetGauge() == nil {
				t.Errorf("not a gauge: %v", m)
			}
		}
	}
	if found != 3 {
		t.Errorf("onair_manifest_age_seconds series: %d, want 3", found)
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New(Config{}, nil, nil, nil, nil); err == nil {
		t.Error("nil index accepted")
	}
	f := newFixture(t, Config{})
	if _, err := New(Config{Window: -1}, f.idx, nil, nil, nil); err == nil {
		t.Error("negative window accepted")
	}
	// Two origins cannot register on one registry, but each on its own can.
	if _, err := New(Config{}, f.idx, nil, nil, f.reg); err == nil {
		t.Error("duplicate registration accepted")
	}
	if _, err := New(Config{}, f.idx, nil, nil, nil); err != nil {
		t.Errorf("nil registry: %v", err)
	}
}
