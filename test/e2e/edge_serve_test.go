package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// `onair serve` answers playback through its built-in edge: a segment is
// a MISS then a HIT, the origin makes it once, edge metrics are in serve's
// /metrics, and the public port speaks h2c and, with a certificate, HTTP/2
// over TLS.
func TestServeEdge(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp"))
	cfg := filepath.Join(dir, "onair.yaml")
	yaml := fmt.Sprintf("edge: {tls_listen: %q, cert_file: %q, key_file: %q}\n", tlsAddr, cert, key)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", "--config", cfg)
	ch := s.createChannel(t, "edgy", false)
	publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey), "320x240", 30, 0)
	waitSegment(t, s.base, "edgy", []string{"160p30"}, 1, 40*time.Second)

	originSegments := func() float64 {
		return counter(t, s.base, `onair_origin_requests_total\{code="200",kind="segment"\}`)
	}
	before := originSegments()
	seg := "/live/edgy/160p30/1.m4s"
	var first []byte
	for i, want := range []string{"MISS", "HIT", "HIT"} {
		code, h, b := get(s.base + seg)
		if code != 200 || h.Get("X-Cache") != want || len(b) == 0 {
			t.Fatalf("GET %s #%d: %d X-Cache %q (%d bytes), want 200 %s", seg, i+1, code, h.Get("X-Cache"), len(b), want)
		}
		if h.Get("Cache-Control") != "public, max-age=12" || h.Get("Age") == "" {
			t.Errorf("GET %s #%d: Cache-Control %q Age %q", seg, i+1, h.Get("Cache-Control"), h.Get("Age"))
		}
		if first == nil {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Errorf("GET %s #%d: other bytes than the first answer", seg, i+1)
		}
	}
	if got := originSegments() - before; got != 1 {
		t.Errorf("origin served the segment %v times for 3 viewer requests, want 1", got)
	}
	_, _, metrics := get(s.base + "/metrics")
	for _, m := range []string{`onair_edge_requests_total{cache="hit"}`, `onair_edge_requests_total{cache="miss"}`,
		"onair_origin_requests_total", "onair_http_connections ", "onair_http_connections_refused_total"} {
		if !bytes.Contains(metrics, []byte(m)) {
			t.Errorf("serve's /metrics lacks %s", m)
		}
	}

	t.Run("h2c", func(t *testing.T) {
		code, xcache, proto, body := fetch(t, h2cClient(t), s.base+seg)
		if code != 200 || proto != "HTTP/2.0" || xcache != "HIT" || body != string(first) {
			t.Errorf("h2c: %d %s X-Cache %q", code, proto, xcache)
		}
	})
	t.Run("https h2", func(t *testing.T) {
		c := tlsClient(t, cert)
		code, xcache, proto, body := fetch(t, c, "https://"+tlsAddr+seg)
		if code != 200 || proto != "HTTP/2.0" || xcache != "HIT" || body != string(first) {
			t.Errorf("https: %d %s X-Cache %q", code, proto, xcache)
		}
		// The API answers on the same HTTPS port.
		if code, _, _, _ := fetch(t, c, "https://"+tlsAddr+"/api/v1/channels/edgy"); code != 200 {
			t.Errorf("API over https: %d", code)
		}
	})
	t.Run("CORS preflight", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, s.base+seg, nil)
		req.Header.Set("Origin", "https://player.example")
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "range")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "range") {
			t.Errorf("preflight: %d %v", resp.StatusCode, h)
		}
		if _, h, _ := get(s.base + seg); h.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("segment through the edge lacks Access-Control-Allow-Origin: %v", h)
		}
	})
	t.Run("time and MPD", func(t *testing.T) {
		code, h, b := get(s.base + "/time")
		if code != 200 || h.Get("X-Cache") != "" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("/time: %d X-Cache %q Cache-Control %q (%s)", code, h.Get("X-Cache"), h.Get("Cache-Control"), b)
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", strings.TrimSpace(string(b))); err != nil {
			t.Errorf("/time body %q: %v", b, err)
		}
		// The cached MPD points players at /time on the host they asked,
		// never at the origin's loopback listener.
		code, _, mpd := get(s.base + "/live/edgy/manifest.mpd")
		if code != 200 || !bytes.Contains(mpd, []byte(`value="/time"`)) {
			t.Errorf("MPD through the edge: %d, UTCTiming not the relative /time:\n%s", code, mpd)
		}
	})
}

// edge.enabled false (--edge=false): serve's origin answers directly.
func TestServeEdgeDisabled(t *testing.T) {
	s := startServer(t, "", "--edge=false")
	s.createChannel(t, "direct", false)
	code, h, _ := get(s.base + "/live/direct/master.m3u8")
	if code != 404 || h.Get("X-Cache") != "" {
		t.Errorf("origin directly: %d X-Cache %q, want 404 and no X-Cache", code, h.Get("X-Cache"))
	}
	if c := counter(t, s.base, `onair_edge_requests_total\{cache="miss"\}`); c != 0 {
		t.Errorf("edge metrics count requests with the edge off: %v", c)
	}
}

// `onair edge` with TLS flags speaks HTTP/2 over TLS and h2c; beyond
// --max-conns a new connection is refused at once and counted, and the
// connections already open keep working.
func TestEdgeProtocolsAndConnLimit(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	origin := newFakeOrigin(t, "origin")
	plain := fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp"))
	secure := fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp"))
	ready := newCountingClient(t)
	startEdgeProc(t, "http://"+plain+"/readyz", ready.Client, "--listen", plain, "--tls-listen", secure,
		"--tls-cert", cert, "--tls-key", key, "--upstream", origin.URL, "--max-conns", "3")
	ready.CloseIdleConnections() // the readiness probe's connection is not one of the three

	// Three connections: HTTP/2 over TLS, h2c, HTTP/1.1. The readiness
	// probe's connection may hold a slot for a moment after it is closed,
	// so each first request is retried until it is served.
	tlsC, h2c := tlsClient(t, cert), h2cClient(t)
	served := func(c *http.Client, url, proto string) func() bool {
		return func() bool {
			resp, err := c.Get(url)
			if err != nil {
				return false
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Proto != proto {
				t.Fatalf("GET %s: %d %s, want 200 %s", url, resp.StatusCode, resp.Proto, proto)
			}
			return true
		}
	}
	waitFor(t, 5*time.Second, "HTTP/2 over TLS", served(tlsC, "https://"+secure+"/live/c/r/1.m4s", "HTTP/2.0"))
	waitFor(t, 5*time.Second, "h2c", served(h2c, "http://"+plain+"/live/c/r/1.m4s", "HTTP/2.0"))
	var raw *rawConn
	waitFor(t, 5*time.Second, "HTTP/1.1", func() bool {
		raw = dialRaw(t, plain)
		code, _ := raw.get("/live/c/r/1.m4s")
		return code == 200
	})
	if _, xcache, _, body := fetch(t, h2c, "http://"+plain+"/live/c/r/1.m4s"); xcache != "HIT" || body != "origin /live/c/r/1.m4s" {
		t.Errorf("second request: X-Cache %q body %q", xcache, body)
	}
	waitFor(t, 5*time.Second, "exactly three open connections", func() bool {
		_, _, _, body := fetch(t, h2c, "http://"+plain+"/metrics")
		return strings.Contains(body, "\nonair_http_connections 3\n")
	})
	refusedBefore := 0.0
	_, _, _, m := fetch(t, h2c, "http://"+plain+"/metrics")
	fmt.Sscanf(grepLines(m, "onair_http_connections_refused_total "), "onair_http_connections_refused_total %g", &refusedBefore)

	// The fourth is reset at once: the reset may even reach the dial.
	start := time.Now()
	if c, err := net.DialTimeout("tcp", plain, 5*time.Second); err == nil {
		extra := &rawConn{c: c, r: bufio.NewReader(c)}
		if code, err := extra.get("/live/c/r/1.m4s"); err == nil {
			t.Fatalf("a fourth connection was served (%d) with --max-conns 3", code)
		}
		c.Close()
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the refusal took %v", d)
	}
	if code, _, proto, _ := fetch(t, tlsC, "https://"+secure+"/live/c/r/2.m4s"); code != 200 || proto != "HTTP/2.0" {
		t.Errorf("open TLS connection after the refusal: %d %s", code, proto)
	}
	if code, err := raw.get("/live/c/r/2.m4s"); code != 200 {
		t.Errorf("open HTTP/1.1 connection after the refusal: %d %v", code, err)
	}
	_, _, _, metrics := fetch(t, h2c, "http://"+plain+"/metrics")
	if !strings.Contains(metrics, fmt.Sprintf("\nonair_http_connections_refused_total %g\n", refusedBefore+1)) {
		t.Errorf("refusal not counted:\n%s", grepLines(metrics, "onair_http_connections"))
	}
	if n := origin.requests.Load(); n != 2 {
		t.Errorf("origin asked %d times for 2 objects", n)
	}
}

// SIGHUP re-reads the config file: a new upstream is used at once over a
// connection that stays open, the cache stays; a bad file is refused with
// a logged error and the running configuration stays.
func TestEdgeReloadOnSIGHUP(t *testing.T) {
	a, b := newFakeOrigin(t, "a"), newFakeOrigin(t, "b")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp"))
	cfg := filepath.Join(t.TempDir(), "onair.yaml")
	write := func(yaml string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(fmt.Sprintf("edge: {listen: %q, upstreams: [%q]}\n", addr, a.URL))
	p := startEdgeProc(t, "http://"+addr+"/readyz", newCountingClient(t).Client, "--config", cfg)
	c := newCountingClient(t)
	base := "http://" + addr
	if _, _, _, body := fetch(t, c.Client, base+"/live/c/r/1.m4s"); body != "a /live/c/r/1.m4s" {
		t.Fatalf("before the reload: %q", body)
	}

	write(fmt.Sprintf("edge: {listen: %q, upstreams: [%q], max_conns: 500}\n", addr, b.URL))
	p.signal(t, syscall.SIGHUP, "edge configuration reloaded")
	tests := []struct{ path, body, xcache string }{
		{"/live/c/r/2.m4s", "b /live/c/r/2.m4s", "MISS"},
		{"/live/c/r/1.m4s", "a /live/c/r/1.m4s", "HIT"}, // the cache survived
	}
	for _, tt := range tests {
		if _, xcache, _, body := fetch(t, c.Client, base+tt.path); body != tt.body || xcache != tt.xcache {
			t.Errorf("after the reload %s: %q X-Cache %q, want %q %s", tt.path, body, xcache, tt.body, tt.xcache)
		}
	}
	if _, _, _, m := fetch(t, c.Client, base+"/metrics"); !strings.Contains(m, "\nonair_http_connections_max 500\n") {
		t.Errorf("connection limit not reloaded:\n%s", grepLines(m, "onair_http_connections_max"))
	}

	for _, bad := range []string{
		"edge: {upstreams: ['ftp://nowhere']}\n",
		"edge: {upstreamz: ['http://127.0.0.1:1']}\n",
		"edge: {upstreams: [\n",
	} {
		write(bad)
		p.signal(t, syscall.SIGHUP, "edge reload refused")
	}
	if _, _, _, body := fetch(t, c.Client, base+"/live/c/r/3.m4s"); body != "b /live/c/r/3.m4s" {
		t.Errorf("after refused reloads: %q, want the running upstream b", body)
	}
	if n := c.dials.Load(); n != 1 {
		t.Errorf("the client dialed %d times; reloads must keep the open connection", n)
	}
	if n := a.requests.Load(); n != 1 {
		t.Errorf("old upstream asked %d times after the reload, want 1 in all", n)
	}
}

// grepLines returns the lines of s containing sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
