package origin

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"onair/internal/live"
)

// benchFixture is a channel with a full 60 s window in three renditions.
func benchFixture(b *testing.B) *fixture {
	f := newFixture(b, Config{})
	for _, info := range []live.Info{info720(), info360(), infoAudio()} {
		r := f.rendition(info)
		for n := int64(0); n < 40; n++ {
			f.segment(r, n, false)
		}
		f.parts(r, 40, false, 0, 2)
	}
	return f
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the handler.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func BenchmarkMediaPlaylist(b *testing.B) {
	f := benchFixture(b)
	req := httptest.NewRequest(http.MethodGet, "/live/ch1/720p/index.m3u8", nil)
	b.ReportAllocs()
	for b.Loop() {
		f.h.ServeHTTP(&discardWriter{h: http.Header{}}, req)
	}
}

func BenchmarkSegmentHit(b *testing.B) {
	f := benchFixture(b)
	req := httptest.NewRequest(http.MethodGet, "/live/ch1/720p/39.m4s", nil)
	b.ReportAllocs()
	for b.Loop() {
		f.h.ServeHTTP(&discardWriter{h: http.Header{}}, req)
	}
}
