package edge

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// revalidatingUpstream answers with ETag "r{version}" and max-age=2, and
// a 304 (max-age=5, X-Refreshed) when If-None-Match names the current
// version. It counts conditional requests.
type revalidatingUpstream struct {
	*countingUpstream
	version     atomic.Int64
	conditional atomic.Int64
}

func newRevalidatingUpstream(t *testing.T) *revalidatingUpstream {
	u := &revalidatingUpstream{}
	u.version.Store(1)
	u.countingUpstream = newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		tag := fmt.Sprintf(`"r%d"`, u.version.Load())
		if inm := r.Header.Get("If-None-Match"); inm != "" {
			u.conditional.Add(1)
			if inm == tag {
				w.Header().Set("Cache-Control", "public, max-age=5")
				w.Header().Set("ETag", tag)
				w.Header().Set("X-Refreshed", "yes")
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		w.Header().Set("Cache-Control", "public, max-age=2")
		w.Header().Set("ETag", tag)
		w.Header().Set("Content-Type", "video/iso.segment")
		fmt.Fprintf(w, "%s version %d", r.URL.Path, u.version.Load())
	})
	return u
}

func TestRevalidateExpiredObject(t *testing.T) {
	clock := newFakeClock()
	up := newRevalidatingUpstream(t)
	e := startEdge(t, Config{Upstreams: []string{up.URL}, Now: clock.Now}, nil)
	const path = "/live/c/720p/1.m4s"
	want := path + " version 1"
	if r := get(t, e.url+path); r.cache() != "MISS" || r.body != want {
		t.Fatalf("first: %q %q", r.cache(), r.body)
	}
	clock.Advance(3 * time.Second) // expired
	r := get(t, e.url+path)
	if r.status != 200 || r.body != want || r.header.Get("X-Refreshed") != "yes" ||
		r.header.Get("Cache-Control") != "public, max-age=5" || r.header.Get("Content-Type") != "video/iso.segment" {
		t.Fatalf("revalidated: %d %q %v, want the cached body with the 304's headers", r.status, r.body, r.header)
	}
	if up.conditional.Load() != 1 || counterValue(e.metrics.revalidations.WithLabelValues("not_modified")) != 1 {
		t.Errorf("conditional requests %d, not_modified %v; want 1, 1", up.conditional.Load(),
			counterValue(e.metrics.revalidations.WithLabelValues("not_modified")))
	}
	clock.Advance(4 * time.Second) // fresh for 5 s from the 304
	if r := get(t, e.url+path); r.cache() != "HIT" || r.body != want || r.header.Get("Age") != "4" {
		t.Errorf("after the 304: X-Cache %q Age %q %q, want HIT 4 and the same body", r.cache(), r.header.Get("Age"), r.body)
	}
	if n := up.count(path); n != 2 {
		t.Errorf("upstream asked %d times, want 2", n)
	}

	// A changed object is fetched whole.
	up.version.Store(2)
	clock.Advance(2 * time.Second)
	if r := get(t, e.url+path); r.body != path+" version 2" || r.header.Get("ETag") != `"r2"` {
		t.Errorf("changed upstream: %q ETag %q, want version 2", r.body, r.header.Get("ETag"))
	}
	if v := counterValue(e.metrics.revalidations.WithLabelValues("modified")); v != 1 {
		t.Errorf("modified revalidations %v, want 1", v)
	}
}

func TestRevalidatePlaylistInBackground(t *testing.T) {
	clock := newFakeClock()
	up := newRevalidatingUpstream(t)
	e := startEdge(t, Config{Upstreams: []string{up.URL}, Now: clock.Now}, nil)
	const path = "/live/c/720p/index.m3u8"
	get(t, e.url+path)
	clock.Advance(2500 * time.Millisecond) // expired, within the stale window
	if r := get(t, e.url+path); r.cache() != "STALE" {
		t.Fatalf("X-Cache %q, want STALE while the refresh runs", r.cache())
	}
	eventually(t, 5*time.Second, "the refreshed playlist", func() bool {
		r := get(t, e.url+path)
		return r.cache() == "HIT" && r.header.Get("X-Refreshed") == "yes"
	})
	if up.conditional.Load() != 1 {
		t.Errorf("conditional requests %d, want 1", up.conditional.Load())
	}
}

// TestRevalidateThroughShield checks that an edge revalidates against a
// shield edge with the tag both derive from the body: the origin sends
// no validator at all, yet the second tier answers 304.
func TestRevalidateThroughShield(t *testing.T) {
	clock := newFakeClock()
	origin := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=2")
		io.WriteString(w, strings.Repeat("segment ", 1000))
	})
	shield := startEdge(t, Config{Upstreams: []string{origin.URL}, Now: clock.Now}, nil)
	edge := startEdge(t, Config{Upstreams: []string{shield.url}, Now: clock.Now}, nil)
	const path = "/live/c/720p/7.m4s"
	first := get(t, edge.url+path)
	clock.Advance(3 * time.Second)
	r := get(t, edge.url+path)
	if r.status != 200 || r.body != first.body {
		t.Fatalf("after expiry: %d, %d bytes", r.status, len(r.body))
	}
	if v := counterValue(edge.metrics.revalidations.WithLabelValues("not_modified")); v != 1 {
		t.Errorf("edge revalidations not_modified = %v, want 1", v)
	}
	if v := counterValue(shield.metrics.notModified); v != 1 {
		t.Errorf("shield 304s = %v, want 1", v)
	}
	if r.header.Get("ETag") != bodyETag([]byte(first.body)) {
		t.Errorf("ETag %q, want the body tag", r.header.Get("ETag"))
	}
}

// TestRevalidationIgnoresForeign304 checks that a 304 naming another
// entity tag does not refresh the stored body: the edge asks again.
func TestRevalidationIgnoresForeign304(t *testing.T) {
	clock := newFakeClock()
	var version atomic.Int64
	version.Store(1)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") != "" {
			w.Header().Set("ETag", `"unrelated"`)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=2")
		w.Header().Set("ETag", fmt.Sprintf(`"v%d"`, version.Load()))
		fmt.Fprintf(w, "version %d", version.Load())
	})
	e := startEdge(t, Config{Upstreams: []string{up.URL}, Now: clock.Now}, nil)
	get(t, e.url+"/a.m4s")
	version.Store(2)
	clock.Advance(3 * time.Second)
	if r := get(t, e.url+"/a.m4s"); r.status != 200 || r.body != "version 2" || r.header.Get("ETag") != `"v2"` {
		t.Errorf("after a foreign 304: %d %q ETag %q, want version 2", r.status, r.body, r.header.Get("ETag"))
	}
	if n := up.count("/a.m4s"); n != 3 {
		t.Errorf("upstream asked %d times, want 3 (the conditional one, then whole)", n)
	}
}
