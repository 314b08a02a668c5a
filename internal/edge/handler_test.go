package edge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// policyUpstream answers /{status}/{cache-control} paths: the status and
// Cache-Control the path names, a body naming the request count.
func policyUpstream(t *testing.T) *countingUpstream {
	var u *countingUpstream
	u = newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		var status int
		var cc string
		fmt.Sscanf(r.URL.Path, "/%d/", &status)
		_, cc, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		cc, _, _ = strings.Cut(cc, "/")
		if cc != "none" {
			w.Header().Set("Cache-Control", strings.ReplaceAll(cc, "_", " "))
		}
		w.Header().Set("Content-Type", "video/iso.segment")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("ETag", `"abc"`)
		if a := r.URL.Query().Get("age"); a != "" {
			w.Header().Set("Age", a)
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "body %d", u.count(r.URL.RequestURI()))
	})
	return u
}

// TestCachePolicyThroughEdge requests each path twice and checks whether
// the second answer came from the cache.
func TestCachePolicyThroughEdge(t *testing.T) {
	up := policyUpstream(t)
	clock := newFakeClock()
	e := startEdge(t, Config{Upstreams: []string{up.URL}, Now: clock.Now}, nil)
	cases := []struct {
		path   string
		cached bool
	}{
		{"/200/public,_max-age=12/1.m4s", true},
		{"/404/public,_max-age=1/2.m4s", true},
		{"/200/public,_max-age=1/index.m3u8", true},
		{"/200/s-maxage=5,_max-age=0/3.m4s", true},
		{"/200/no-store/4.m4s", false},
		{"/200/private,_max-age=60/5.m4s", false},
		{"/200/no-cache,_max-age=60/6.m4s", false},
		{"/200/none/7.m4s", false},
		{"/500/max-age=60/8.m4s", false},
		{"/503/no-store/9.m4s", false},
		{"/403/max-age=60/10.m4s", false},
		{"/200/max-age=10/11.m4s?age=10", false},
	}
	for _, tc := range cases {
		first := get(t, e.url+tc.path)
		second := get(t, e.url+tc.path)
		if first.cache() != "MISS" {
			t.Errorf("%s: first X-Cache = %q, want MISS", tc.path, first.cache())
		}
		wantCache, wantUp := "MISS", 2
		if tc.cached {
			wantCache, wantUp = "HIT", 1
		}
		if second.cache() != wantCache || up.count(tc.path) != wantUp || second.body != first.body && tc.cached {
			t.Errorf("%s: second X-Cache %q body %q, upstream saw %d; want %s, %q, %d",
				tc.path, second.cache(), second.body, up.count(tc.path), wantCache, first.body, wantUp)
		}
		if second.status != first.status || second.header.Get("Content-Type") != "video/iso.segment" ||
			second.header.Get("Access-Control-Allow-Origin") != "*" || second.header.Get("ETag") != `"abc"` {
			t.Errorf("%s: headers not forwarded: %d %v", tc.path, second.status, second.header)
		}
	}
}

func TestAgeAndExpiry(t *testing.T) {
	up := policyUpstream(t)
	clock := newFakeClock()
	e := startEdge(t, Config{Upstreams: []string{up.URL}, Now: clock.Now}, nil)
	path := "/200/public,_max-age=12/1.m4s?age=4"
	first := get(t, e.url+path)
	if first.header.Get("Age") != "4" || first.header.Get("Cache-Control") != "public, max-age=12" ||
		first.header.Get("Content-Length") != fmt.Sprint(len(first.body)) {
		t.Fatalf("first response headers: %v", first.header)
	}
	clock.Advance(3500 * time.Millisecond)
	if r := get(t, e.url+path); r.cache() != "HIT" || r.header.Get("Age") != "7" {
		t.Errorf("after 3.5 s: X-Cache %q Age %q, want HIT 7", r.cache(), r.header.Get("Age"))
	}
	clock.Advance(5 * time.Second) // age 12.5 > 12
	if r := get(t, e.url+path); r.cache() != "MISS" || up.count(path) != 2 {
		t.Errorf("after expiry: X-Cache %q, upstream count %d; want MISS, 2", r.cache(), up.count(path))
	}
}

func TestHeadAndRange(t *testing.T) {
	body := strings.Repeat("0123456789", 100)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=12")
		if strings.Contains(r.URL.Path, "chunked") {
			w.(http.Flusher).Flush() // no Content-Length
		}
		io.WriteString(w, body)
	})
	e := startEdge(t, Config{Upstreams: []string{up.URL}}, nil)
	cases := []struct {
		name, path, method, rng string
		status                  int
		body, contentRange      string
		cache                   string
	}{
		{"head on a miss", "/a.m4s", "HEAD", "", 200, "", "", "MISS"},
		{"head on a hit", "/a.m4s", "HEAD", "", 200, "", "", "HIT"},
		{"range on a hit", "/a.m4s", "GET", "bytes=10-19", 206, body[10:20], "bytes 10-19/1000", "HIT"},
		{"suffix range", "/a.m4s", "GET", "bytes=-5", 206, body[995:], "bytes 995-999/1000", "HIT"},
		{"bad range", "/a.m4s", "GET", "bytes=2000-", 416, "", "bytes */1000", "HIT"},
		{"malformed range", "/a.m4s", "GET", "bytes=x", 416, "", "bytes */1000", "HIT"},
		{"multi range gets all", "/a.m4s", "GET", "bytes=0-1,5-6", 200, body, "", "HIT"},
		{"range on a miss", "/b.m4s", "GET", "bytes=990-", 206, body[990:], "bytes 990-999/1000", "MISS"},
		{"range on a chunked miss", "/chunked.m4s", "GET", "bytes=0-3", 206, body[:4], "bytes 0-3/1000", "MISS"},
		{"bad range on a miss", "/c.m4s", "GET", "bytes=5000-6000", 416, "", "bytes */1000", "MISS"},
	}
	for _, tc := range cases {
		r := do(t, nil, tc.method, e.url+tc.path, map[string]string{"Range": tc.rng})
		if r.status != tc.status || r.header.Get("Content-Range") != tc.contentRange || r.cache() != tc.cache ||
			(tc.status != 416 && r.body != tc.body) {
			t.Errorf("%s: %d %q Content-Range %q X-Cache %q; want %d %q %q %q", tc.name, r.status, trim(r.body),
				r.header.Get("Content-Range"), r.cache(), tc.status, trim(tc.body), tc.contentRange, tc.cache)
		}
		if tc.method == "HEAD" && r.header.Get("Content-Length") != "1000" {
			t.Errorf("%s: Content-Length %q, want 1000", tc.name, r.header.Get("Content-Length"))
		}
	}
	if n := up.count("/a.m4s"); n != 1 {
		t.Errorf("upstream saw /a.m4s %d times, want 1 (HEAD fills the cache with a GET)", n)
	}
}

func trim(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

func TestLimits(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=12")
		io.WriteString(w, "ok")
	})
	e, err := New(Config{Upstreams: []string{up.URL}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := e.Server(nil); s.ReadHeaderTimeout != 5*time.Second || s.MaxHeaderBytes != DefaultMaxHeaderBytes || s.IdleTimeout == 0 {
		t.Errorf("Server presets: ReadHeaderTimeout %v MaxHeaderBytes %d IdleTimeout %v", s.ReadHeaderTimeout, s.MaxHeaderBytes, s.IdleTimeout)
	}
	te := startEdge(t, Config{Upstreams: []string{up.URL}}, func(s *http.Server) { s.ReadHeaderTimeout = 300 * time.Millisecond })

	cases := []struct {
		name   string
		method string
		path   string
		header map[string]string
		status int
	}{
		{"long url", "GET", "/" + strings.Repeat("a", 5000), nil, http.StatusRequestURITooLong},
		{"post", "POST", "/x.m4s", nil, http.StatusMethodNotAllowed},
		{"delete", "DELETE", "/x.m4s", nil, http.StatusMethodNotAllowed},
		{"huge header", "GET", "/x.m4s", map[string]string{"X-Big": strings.Repeat("b", 40<<10)}, http.StatusRequestHeaderFieldsTooLarge},
		{"options", "OPTIONS", "/x.m4s", map[string]string{"Origin": "https://a.example", "Access-Control-Request-Headers": "range"}, http.StatusNoContent},
		{"ok", "GET", "/x.m4s", nil, http.StatusOK},
	}
	for _, tc := range cases {
		r := do(t, nil, tc.method, te.url+tc.path, tc.header)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, r.status, tc.status)
		}
		if tc.status == http.StatusMethodNotAllowed && r.header.Get("Allow") != "GET, HEAD, OPTIONS" {
			t.Errorf("%s: Allow %q", tc.name, r.header.Get("Allow"))
		}
		if tc.method == "OPTIONS" && (r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Access-Control-Allow-Headers") != "range") {
			t.Errorf("preflight headers: %v", r.header)
		}
	}
	if up.total.Load() != 1 {
		t.Errorf("upstream saw %d requests, want 1 (refused requests never go upstream)", up.total.Load())
	}

	// A slowloris client that never finishes its request head is cut
	// after ReadHeaderTimeout while other clients are served.
	conn, err := net.Dial("tcp", te.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /x.m4s HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 3 {
		if r := get(t, te.url+"/x.m4s"); r.status != 200 {
			t.Errorf("normal client during slowloris: %d", r.status)
		}
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = bufio.NewReader(conn).ReadByte()
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("slow client still connected after %v", time.Since(start))
	}
	if err == nil {
		// Go may answer 408 before closing; either way the connection ends.
		if _, err := io.ReadAll(conn); err != nil {
			t.Fatalf("slow client: %v", err)
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("slow client cut after %v, want about 300 ms", d)
	}
}

func TestBadPaths(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "x") })
	e := startEdge(t, Config{Upstreams: []string{up.URL}}, nil)
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /live/../secret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || up.total.Load() != 0 {
		t.Errorf("dot segment: status %d, upstream saw %d requests", resp.StatusCode, up.total.Load())
	}
}
