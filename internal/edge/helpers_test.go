package edge

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeClock is an injectable Config.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

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

// testEdge is an edge served over 127.0.0.1 with Run going.
type testEdge struct {
	*Edge
	reg *prometheus.Registry
	srv *httptest.Server
	url string
}

// startEdge builds an edge from cfg, serves it with e.Server's settings
// (adjusted by tune, if any) and runs it until the test ends.
func startEdge(t testing.TB, cfg Config, tune func(*http.Server)) *testEdge {
	t.Helper()
	reg := prometheus.NewRegistry()
	e, err := New(cfg, nil, reg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = e.Server(e.Handler())
	if tune != nil {
		tune(srv.Config)
	}
	srv.Start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		srv.Close()
	})
	return &testEdge{Edge: e, reg: reg, srv: srv, url: srv.URL}
}

// countingUpstream wraps h and counts requests per request target.
type countingUpstream struct {
	*httptest.Server
	mu     sync.Mutex
	counts map[string]int
	total  atomic.Int64
}

func newUpstream(t testing.TB, h http.HandlerFunc) *countingUpstream {
	t.Helper()
	u := &countingUpstream{counts: make(map[string]int)}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.counts[r.URL.RequestURI()]++
		u.mu.Unlock()
		u.total.Add(1)
		h(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *countingUpstream) count(target string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.counts[target]
}

// response is what a viewer saw.
type response struct {
	status int
	header http.Header
	body   string
}

func (r response) cache() string { return r.header.Get("X-Cache") }

// do sends one request and reads the whole response.
func do(t testing.TB, client *http.Client, method, url string, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func get(t testing.TB, url string) response { return do(t, nil, http.MethodGet, url, nil) }

// manyClients returns a client that keeps n connections open at once.
func manyClients(t testing.TB, n int) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: n, DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// eventually polls cond every 5 ms for up to d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func counterValue(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }
