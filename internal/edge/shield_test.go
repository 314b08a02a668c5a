package edge

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestShieldTier puts three edges in front of one shield edge in front of
// the origin: however many viewers ask each edge, the origin sees one
// request per object, and each tier caches what the one above forwarded.
func TestShieldTier(t *testing.T) {
	origin := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond) // a slow origin, so requests overlap
		cc := "public, max-age=12"
		if strings.HasSuffix(r.URL.Path, ".m3u8") {
			cc = "public, max-age=1"
		}
		w.Header().Set("Cache-Control", cc)
		w.Header().Set("Content-Type", "video/iso.segment")
		w.Header().Set("Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT")
		body := strings.Repeat(r.URL.Path, 1000)
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		io.WriteString(w, body)
	})
	shield := startEdge(t, Config{Upstreams: []string{origin.URL}}, nil)
	var edges []*testEdge
	for range 3 {
		edges = append(edges, startEdge(t, Config{Upstreams: []string{shield.url}}, nil))
	}
	paths := []string{"/live/c/720p/1.m4s", "/live/c/720p/2.m4s", "/live/c/720p/2.3.m4s", "/live/c/720p/init.mp4", "/live/c/720p/index.m3u8"}
	client := manyClients(t, 300)
	var wg sync.WaitGroup
	for _, e := range edges {
		for _, p := range paths {
			for i := range 20 {
				wg.Go(func() {
					r := do(t, client, http.MethodGet, fmt.Sprintf("%s%s?session=%d", e.url, p, i), nil)
					if r.status != 200 || r.body != strings.Repeat(p, 1000) {
						t.Errorf("%s: %d, %d bytes", p, r.status, len(r.body))
					}
					if r.header.Get("Last-Modified") == "" || r.header.Get("Content-Type") != "video/iso.segment" ||
						r.header.Get("Content-Length") != fmt.Sprint(len(r.body)) {
						t.Errorf("%s: headers not forwarded through the tiers: %v", p, r.header)
					}
				})
			}
		}
	}
	wg.Wait()
	for _, p := range paths {
		if n := origin.count(p); n != 1 {
			t.Errorf("origin saw %s %d times, want 1", p, n)
		}
	}
	// Every tier kept it.
	for _, e := range edges {
		if r := get(t, e.url+paths[0]); r.cache() != "HIT" {
			t.Errorf("edge: X-Cache %q on the second round, want HIT", r.cache())
		}
	}
	if n := counterValue(shield.metrics.upstreamRequests.WithLabelValues(origin.URL, "200")); n != float64(len(paths)) {
		t.Errorf("shield went upstream %v times, want %d", n, len(paths))
	}
}

// TestShieldForwardsAge checks that a downstream edge counts the time the
// object already spent in the shield: it expires when the shield's copy does.
func TestShieldForwardsAge(t *testing.T) {
	clock := newFakeClock()
	origin := newUpstream(t, namedHandler("origin")) // max-age=12
	shield := startEdge(t, Config{Upstreams: []string{origin.URL}, Now: clock.Now}, nil)
	edge := startEdge(t, Config{Upstreams: []string{shield.url}, Now: clock.Now}, nil)
	get(t, shield.url+"/a.m4s")
	clock.Advance(10 * time.Second)
	r := get(t, edge.url+"/a.m4s")
	if r.cache() != "MISS" || r.header.Get("Age") != "10" {
		t.Fatalf("edge fetch: X-Cache %q Age %q, want MISS 10", r.cache(), r.header.Get("Age"))
	}
	clock.Advance(2500 * time.Millisecond) // 12.5 s since the origin made it
	if r := get(t, edge.url+"/a.m4s"); r.cache() == "HIT" {
		t.Errorf("edge served its copy as fresh past the origin's max-age: Age %q", r.header.Get("Age"))
	}
}
