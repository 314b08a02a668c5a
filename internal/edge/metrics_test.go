package edge

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestManifestAgeMetric(t *testing.T) {
	clock := newFakeClock()
	var part atomic.Int64
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=1")
		p := part.Load()
		fmt.Fprintf(w, "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:5\n#EXTINF:2,\n5.m4s\n#EXT-X-PART:DURATION=0.5,URI=\"6.%d.m4s\"\n", p)
	})
	e := startEdge(t, Config{Upstreams: []string{up.URL}, Now: clock.Now}, nil)
	want := func(age float64) {
		t.Helper()
		expected := fmt.Sprintf(`
# HELP onair_edge_manifest_age_seconds Seconds since the newest segment or part seen in any media playlist of the channel changed, computed at scrape time.
# TYPE onair_edge_manifest_age_seconds gauge
onair_edge_manifest_age_seconds{channel="news"} %g
`, age)
		if err := testutil.GatherAndCompare(e.reg, strings.NewReader(expected), "onair_edge_manifest_age_seconds"); err != nil {
			t.Error(err)
		}
	}
	get(t, e.url+"/live/news/720p/index.m3u8")
	get(t, e.url+"/live/news/master.m3u8")
	want(0)
	clock.Advance(3 * time.Second) // expired beyond the stale window; the playlist did not move
	get(t, e.url+"/live/news/720p/index.m3u8")
	want(3)
	part.Store(1)
	clock.Advance(3 * time.Second)
	get(t, e.url+"/live/news/480p/index.m3u8") // any rendition moving counts
	want(0)
	clock.Advance(1500 * time.Millisecond)
	want(1.5)
}

func TestRequestAndByteMetrics(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=12")
		io.WriteString(w, "0123456789")
	})
	e := startEdge(t, Config{Upstreams: []string{up.URL}}, nil)
	get(t, e.url+"/a.m4s")
	get(t, e.url+"/a.m4s")
	do(t, nil, http.MethodPost, e.url+"/a.m4s", nil)
	checks := []struct {
		name string
		got  float64
		want float64
	}{
		{"hit", counterValue(e.metrics.requests.WithLabelValues(labelHit)), 1},
		{"miss", counterValue(e.metrics.requests.WithLabelValues(labelMiss)), 1},
		{"error", counterValue(e.metrics.requests.WithLabelValues(labelError)), 1},
		{"bytes in", counterValue(e.metrics.bytes.WithLabelValues("in")), 10},
		{"bytes out", counterValue(e.metrics.bytes.WithLabelValues("out")), 20},
		{"objects", counterValue(e.metrics.cacheObjects), 1},
		{"upstream 200", counterValue(e.metrics.upstreamRequests.WithLabelValues(up.URL, "200")), 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if v := counterValue(e.metrics.cacheBytes); v < 10 {
		t.Errorf("cache bytes = %v", v)
	}
}
