package edge

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// discardWriter is a ResponseWriter that drops the body.
type discardWriter struct {
	header http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }

func benchmarkHit(b *testing.B, path string, size int) {
	body := bytes.Repeat([]byte{'x'}, size)
	up := newUpstream(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(body)
	})
	e, err := New(Config{Upstreams: []string{up.URL}}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	h := e.Handler()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	req := httptest.NewRequest(http.MethodGet, path+"?token=abc", nil)
	w := &discardWriter{header: make(http.Header, 8)}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		clear(w.header)
		w.n = 0
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK || w.n != size || w.header.Get("X-Cache") != "HIT" {
			b.Fatalf("status %d, %d bytes, X-Cache %q", w.status, w.n, w.header.Get("X-Cache"))
		}
	}
}

func BenchmarkCacheHitPlaylist(b *testing.B) { benchmarkHit(b, "/live/c/720p/index.m3u8", 1<<10) }

func BenchmarkCacheHitSegment(b *testing.B) { benchmarkHit(b, "/live/c/720p/1.m4s", 1<<20) }
