package waf

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// browserUA is a current Chromium's User-Agent, as hls.js and dash.js
// requests carry it.
const browserUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// syncBuffer is a log sink that tests read while handlers write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixture is a WAF in front of an echo handler on a loopback server.
type fixture struct {
	waf  *WAF
	srv  *httptest.Server
	log  *syncBuffer
	reg  *prometheus.Registry
	seen chan string // the body each request that passed delivered to the handler
}

// newFixture starts a WAF built from cfg (Enabled set) in front of a
// handler that answers 200 "ok" and reports the body it read.
func newFixture(t testing.TB, cfg Config) *fixture {
	t.Helper()
	cfg.Enabled = true
	f := &fixture{log: &syncBuffer{}, reg: prometheus.NewRegistry(), seen: make(chan string, 1024)}
	log := slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w, err := New(cfg, log, f.reg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.waf = w
	f.srv = httptest.NewServer(w.Middleware(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		select {
		case f.seen <- string(b):
		default:
		}
		io.WriteString(rw, "ok")
	})))
	t.Cleanup(f.srv.Close)
	return f
}

// req is one HTTP/1.1 request written byte for byte as given, so tests
// control exactly what reaches the server (a Go client would clean or
// refuse some of the attacks).
type req struct {
	method  string
	target  string
	headers []string // "Name: value"
	body    string
}

// resp is what a client saw.
type resp struct {
	status int
	header http.Header
	body   string
}

// do sends r over a new connection and reads the response, within 10 s.
func (f *fixture) do(t testing.TB, r req) resp {
	t.Helper()
	conn, err := net.DialTimeout("tcp", f.srv.Listener.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	b.WriteString(r.method + " " + r.target + " HTTP/1.1\r\nConnection: close\r\n")
	if !slices.ContainsFunc(r.headers, func(h string) bool { return strings.HasPrefix(strings.ToLower(h), "host:") }) {
		b.WriteString("Host: onair.example\r\n")
	}
	for _, h := range r.headers {
		b.WriteString(h + "\r\n")
	}
	if r.body != "" {
		b.WriteString("Content-Length: " + strconv.Itoa(len(r.body)) + "\r\n")
	}
	b.WriteString("\r\n" + r.body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatalf("write: %v", err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: r.method})
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: string(body)}
}

// blocked returns onair_waf_blocked_total{reason}.
func (f *fixture) blocked(reason string) float64 {
	return testutil.ToFloat64(f.waf.metrics.blocked.WithLabelValues(reason))
}

// requests returns onair_waf_requests_total{mode}.
func (f *fixture) requests(m Mode) float64 {
	return testutil.ToFloat64(f.waf.metrics.requests[m])
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
