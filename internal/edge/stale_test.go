package edge

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestStaleWhileRevalidatePlaylist(t *testing.T) {
	clock := newFakeClock()
	var version atomic.Int64
	hold := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		v := version.Add(1)
		if v == 2 {
			<-hold // the refresh is slow, so stale answers overlap it
		}
		w.Header().Set("Cache-Control", "public, max-age=1")
		fmt.Fprintf(w, "#EXTM3U\n# v%d\n", v)
	})
	e := startEdge(t, Config{Upstreams: []string{up.URL}, Now: clock.Now}, nil)
	url := e.url + "/live/c/720p/index.m3u8"
	if r := get(t, url); r.cache() != "MISS" || r.body != "#EXTM3U\n# v1\n" {
		t.Fatalf("first: %q %q", r.cache(), r.body)
	}

	clock.Advance(1500 * time.Millisecond) // expired, within one more lifetime
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if r := get(t, url); r.cache() != "STALE" || r.body != "#EXTM3U\n# v1\n" || r.header.Get("Age") != "1" {
				t.Errorf("during refresh: %q Age %q %q, want STALE v1", r.cache(), r.header.Get("Age"), r.body)
			}
		})
	}
	wg.Wait()
	if n := up.total.Load(); n != 2 {
		t.Fatalf("upstream saw %d requests, want 2 (one refresh)", n)
	}
	close(hold)
	eventually(t, 5*time.Second, "the refreshed playlist", func() bool {
		r := get(t, url)
		return r.cache() == "HIT" && r.body == "#EXTM3U\n# v2\n"
	})
	if n := up.total.Load(); n != 2 {
		t.Errorf("upstream saw %d requests, want 2", n)
	}

	clock.Advance(2500 * time.Millisecond) // beyond the stale window: wait for the upstream
	if r := get(t, url); r.cache() != "MISS" || r.body != "#EXTM3U\n# v3\n" {
		t.Errorf("beyond the stale window: %q %q, want MISS v3", r.cache(), r.body)
	}
}

func TestStaleIfError(t *testing.T) {
	clock := newFakeClock()
	var mode atomic.Value // "ok", "fail", "notfound"
	mode.Store("ok")
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load() {
		case "fail":
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "boom", http.StatusServiceUnavailable)
			return
		case "notfound":
			w.Header().Set("Cache-Control", "max-age=1")
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=12")
		io.WriteString(w, "segment "+r.URL.Path)
	})
	// The circuit breaker would open after these failures: this test is
	// about the answers before it does (breaker_test.go covers after).
	e := startEdge(t, Config{Upstreams: []string{up.URL}, Now: clock.Now, Breaker: BreakerConfig{Disabled: true}}, nil)
	seg := e.url + "/live/c/720p/3.m4s"
	get(t, seg)
	mode.Store("notfound")
	get(t, e.url+"/live/c/720p/4.m4s") // a cached 404
	clock.Advance(time.Minute)

	mode.Store("fail")
	if r := get(t, seg); r.status != 200 || r.cache() != "STALE" || r.body != "segment /live/c/720p/3.m4s" {
		t.Errorf("upstream 503: %d %q %q, want the stale segment", r.status, r.cache(), r.body)
	}
	if r := get(t, e.url+"/live/c/720p/4.m4s"); r.status != 503 || r.cache() != "MISS" {
		t.Errorf("an expired 404 is never served stale: %d %q", r.status, r.cache())
	}
	if r := get(t, e.url+"/live/c/720p/9.m4s"); r.status != 503 || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("no stale copy: %d %q, want the upstream's 503, no-store", r.status, r.header.Get("Cache-Control"))
	}

	up.Close() // nothing answers at all
	if r := get(t, seg); r.status != 200 || r.cache() != "STALE" {
		t.Errorf("upstream gone: %d %q, want the stale segment", r.status, r.cache())
	}
	if r := get(t, e.url+"/live/c/720p/9.m4s"); r.status != http.StatusBadGateway || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("upstream gone, nothing cached: %d %q, want 502 no-store", r.status, r.header.Get("Cache-Control"))
	}
	if v := counterValue(e.metrics.requests.WithLabelValues(labelStale)); v != 2 {
		t.Errorf("stale requests counted %v, want 2", v)
	}
}
