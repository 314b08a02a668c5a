package edge

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A reload moves new fetches to the new upstream; what is cached stays
// cached; the old upstream is asked nothing more.
func TestReconfigureSwapsUpstreams(t *testing.T) {
	a := newUpstream(t, namedHandler("a"))
	b := newUpstream(t, namedHandler("b"))
	e := startEdge(t, Config{Upstreams: []string{a.URL}}, nil)
	if r := get(t, e.url+"/1.m4s"); r.body != "a /1.m4s" || r.cache() != "MISS" {
		t.Fatalf("before: %q %s", r.body, r.cache())
	}
	if err := e.Reconfigure(Config{Upstreams: []string{b.URL}}); err != nil {
		t.Fatalf("Reconfigure: %v", err)
	}
	tests := []struct {
		path, body, cache string
	}{
		{"/2.m4s", "b /2.m4s", "MISS"},
		{"/1.m4s", "a /1.m4s", "HIT"}, // the cache survived the reload
		{"/2.m4s", "b /2.m4s", "HIT"},
	}
	for _, tt := range tests {
		if r := get(t, e.url+tt.path); r.body != tt.body || r.cache() != tt.cache {
			t.Errorf("after reload %s: %q %s, want %q %s", tt.path, r.body, r.cache(), tt.body, tt.cache)
		}
	}
	if n := a.total.Load(); n != 1 {
		t.Errorf("old upstream asked %d times, want 1", n)
	}
	if got := testutil.CollectAndCount(e.metrics.upstreamUp); got != 1 {
		t.Errorf("%d onair_edge_upstream_up series after the reload, want 1 (the removed upstream's is gone)", got)
	}
	if v := testutil.ToFloat64(e.metrics.upstreamUp.WithLabelValues(b.URL)); v != 1 {
		t.Errorf("new upstream up = %v", v)
	}
}

// An upstream that stays in the group keeps its state: one that is down
// stays down (tried last) even when it moves to the front.
func TestReconfigureKeepsUpstreamState(t *testing.T) {
	down := newUpstream(t, namedHandler("down"))
	healthy := newUpstream(t, namedHandler("healthy"))
	added := newUpstream(t, namedHandler("added"))
	e := startEdge(t, Config{Upstreams: []string{down.URL, healthy.URL}, FailBackAfter: time.Hour}, nil)
	down.Close()
	if r := get(t, e.url+"/1.m4s"); r.body != "healthy /1.m4s" {
		t.Fatalf("failover: %q", r.body)
	}
	if v := testutil.ToFloat64(e.metrics.upstreamUp.WithLabelValues(down.URL)); v != 0 {
		t.Fatalf("closed upstream up = %v", v)
	}
	// The down one moves first; a new one comes second; healthy is dropped.
	if err := e.Reconfigure(Config{Upstreams: []string{down.URL, added.URL}, FailBackAfter: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if r := get(t, e.url+"/2.m4s"); r.body != "added /2.m4s" {
		t.Errorf("after reload: %q, want the new upstream (the kept one is still down)", r.body)
	}
	if v := testutil.ToFloat64(e.metrics.upstreamUp.WithLabelValues(down.URL)); v != 0 {
		t.Errorf("kept down upstream up = %v after the reload, want 0", v)
	}
	if n := counterValue(e.metrics.upstreamRequests.WithLabelValues(down.URL, "error")); n != 1 {
		t.Errorf("requests to the down upstream: %v, want 1 (it is tried last)", n)
	}
	if n := healthy.total.Load(); n != 1 {
		t.Errorf("removed upstream asked %d times, want 1", n)
	}
}

// An invalid configuration is refused and the running one stays.
func TestReconfigureRefusesInvalid(t *testing.T) {
	a := newUpstream(t, namedHandler("a"))
	e := startEdge(t, Config{Upstreams: []string{a.URL}, CacheBytes: 1 << 20}, nil)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no upstreams", Config{}, "no upstreams"},
		{"bad scheme", Config{Upstreams: []string{"ftp://x"}}, "ftp://x"},
		{"query in upstream", Config{Upstreams: []string{a.URL + "?x=1"}}, "want http(s)"},
		{"one bad among good", Config{Upstreams: []string{a.URL, "http://"}}, "http://"},
		{"negative budget", Config{Upstreams: []string{a.URL}, CacheBytes: -1}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.Reconfigure(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Reconfigure: %v, want an error mentioning %q", err, tt.want)
			}
			if r := get(t, e.url+"/"+strings.ReplaceAll(tt.name, " ", "-")); r.status != 200 || !strings.HasPrefix(r.body, "a ") {
				t.Errorf("after a refused reload: %d %q", r.status, r.body)
			}
		})
	}
	e.mu.Lock()
	budget := e.cache.budget
	e.mu.Unlock()
	if budget != 1<<20 {
		t.Errorf("budget %d after refused reloads, want %d", budget, 1<<20)
	}
}

// A smaller budget evicts the least recently used objects at once; a
// larger one keeps everything.
func TestReconfigureCacheBudget(t *testing.T) {
	body := strings.Repeat("x", 10<<10)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		io.WriteString(w, body)
	})
	e := startEdge(t, Config{Upstreams: []string{up.URL}, CacheBytes: 1 << 20}, nil)
	for i := range 8 {
		get(t, fmt.Sprintf("%s/%d.m4s", e.url, i))
	}
	get(t, e.url+"/0.m4s") // 0 is now the most recently used
	if n := testutil.ToFloat64(e.metrics.cacheObjects); n != 8 {
		t.Fatalf("%v objects cached, want 8", n)
	}
	budget := int64(3 * (10<<10 + 1<<10)) // room for three objects
	if err := e.Reconfigure(Config{Upstreams: []string{up.URL}, CacheBytes: budget}); err != nil {
		t.Fatal(err)
	}
	if n := testutil.ToFloat64(e.metrics.cacheObjects); n != 3 {
		t.Errorf("%v objects after shrinking, want 3", n)
	}
	if b := testutil.ToFloat64(e.metrics.cacheBytes); b > float64(budget) {
		t.Errorf("cache holds %v bytes over the %d budget", b, budget)
	}
	for _, tt := range []struct{ path, cache string }{{"/0.m4s", "HIT"}, {"/7.m4s", "HIT"}, {"/6.m4s", "HIT"}, {"/1.m4s", "MISS"}} {
		if r := get(t, e.url+tt.path); r.cache() != tt.cache {
			t.Errorf("%s: %s, want %s", tt.path, r.cache(), tt.cache)
		}
	}
}

// Settings a running edge can not change are kept and named in a warning;
// the rest of the reload applies.
func TestReconfigureFixedFieldsWarn(t *testing.T) {
	a := newUpstream(t, namedHandler("a"))
	b := newUpstream(t, namedHandler("b"))
	logs := &lockedBuffer{}
	e, err := New(Config{Upstreams: []string{a.URL}, MaxURLBytes: 512}, slog.New(slog.NewTextHandler(logs, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Reconfigure(Config{Upstreams: []string{b.URL}, MaxURLBytes: 8192, BlockTimeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{"edge reconfigured", "only change on restart", "MaxURLBytes", "BlockTimeout"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if e.cfg.MaxURLBytes != 512 {
		t.Errorf("MaxURLBytes %d, want the running 512", e.cfg.MaxURLBytes)
	}
	if got := e.group.candidates(); len(got) != 1 || got[0].base != b.URL {
		t.Errorf("upstreams after the reload: %v", got)
	}
}

// A fetch in flight from an upstream that a reload removes finishes; the
// viewer gets the whole body.
func TestReconfigureKeepsInflightFetch(t *testing.T) {
	release := make(chan struct{})
	slow := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "slow-")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "body!")
	})
	other := newUpstream(t, namedHandler("other"))
	e := startEdge(t, Config{Upstreams: []string{slow.URL}}, nil)
	done := make(chan response, 1)
	go func() { done <- get(t, e.url+"/big.m4s") }()
	eventually(t, 5*time.Second, "fetch started", func() bool { return slow.total.Load() == 1 })
	if err := e.Reconfigure(Config{Upstreams: []string{other.URL}}); err != nil {
		t.Fatal(err)
	}
	close(release)
	if r := <-done; r.status != 200 || r.body != "slow-body!" {
		t.Errorf("in-flight fetch across a reload: %d %q", r.status, r.body)
	}
	if r := get(t, e.url+"/big.m4s"); r.cache() != "HIT" || r.body != "slow-body!" {
		t.Errorf("object fetched across the reload: %s %q, want a HIT", r.cache(), r.body)
	}
}

// Reloads while viewers are being served: run with -race.
func TestReconfigureWhileServing(t *testing.T) {
	a := newUpstream(t, namedHandler("a"))
	b := newUpstream(t, namedHandler("b"))
	e := startEdge(t, Config{Upstreams: []string{a.URL}, FailBackAfter: 20 * time.Millisecond}, nil)
	client := manyClients(t, 8)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for v := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := do(t, client, http.MethodGet, fmt.Sprintf("%s/%d/%d.m4s", e.url, v, i%50), nil)
				if r.status != 200 {
					t.Errorf("viewer %d: %d", v, r.status)
					return
				}
			}
		})
	}
	sets := [][]string{{b.URL}, {a.URL, b.URL}, {b.URL, a.URL}, {a.URL}}
	for i := range 40 {
		cfg := Config{Upstreams: sets[i%len(sets)], CacheBytes: int64(64+i%3*64) << 10, FailBackAfter: 20 * time.Millisecond}
		if err := e.Reconfigure(cfg); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
}

func TestFixedChanges(t *testing.T) {
	base := Config{Upstreams: []string{"http://a:1"}}
	if err := base.setDefaults(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"nothing", func(*Config) {}, nil},
		{"live fields only", func(c *Config) { c.Upstreams, c.CacheBytes = []string{"http://b:2"}, 1<<20 }, nil},
		{"funcs are wiring", func(c *Config) { c.Now = time.Now }, nil},
		{"limits", func(c *Config) { c.MaxURLBytes, c.MaxHeaderBytes = 1, 2 }, []string{"MaxHeaderBytes", "MaxURLBytes"}},
		{"strip list", func(c *Config) { c.StripParams = []string{"token"} }, []string{"StripParams"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := base
			next.StripParams = slices.Clone(base.StripParams)
			tt.edit(&next)
			if got := base.fixedChanges(next); !slices.Equal(got, tt.want) {
				t.Errorf("fixedChanges = %v, want %v", got, tt.want)
			}
		})
	}
}
