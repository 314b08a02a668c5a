package edge

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// namedHandler answers every path with a body naming the server.
func namedHandler(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=12")
		io.WriteString(w, name+" "+r.URL.Path)
	}
}

func TestFailoverAndFailBack(t *testing.T) {
	primary := newUpstream(t, namedHandler("primary"))
	secondary := newUpstream(t, namedHandler("secondary"))
	addr := primary.Listener.Addr().String()
	e := startEdge(t, Config{
		Upstreams:       []string{primary.URL, secondary.URL},
		UpstreamTimeout: time.Second,
		FailBackAfter:   300 * time.Millisecond,
	}, nil)
	up := func(u *countingUpstream) float64 {
		return testutil.ToFloat64(e.metrics.upstreamUp.WithLabelValues(u.URL))
	}

	if r := get(t, e.url+"/a.m4s"); r.body != "primary /a.m4s" {
		t.Fatalf("before failure: %q", r.body)
	}
	primary.Close() // killed: the listener is gone
	for _, path := range []string{"/b.m4s", "/c.m4s", "/d.m4s"} {
		if r := get(t, e.url+path); r.status != 200 || r.body != "secondary "+path {
			t.Errorf("primary down: %d %q, want the secondary's answer", r.status, r.body)
		}
	}
	if up(primary) != 0 || up(secondary) != 1 {
		t.Errorf("upstream_up primary %v secondary %v, want 0 1", up(primary), up(secondary))
	}
	if n := counterValue(e.metrics.upstreamRequests.WithLabelValues(primary.URL, "error")); n != 1 {
		t.Errorf("requests to the down primary: %v, want 1 (down upstreams are tried last)", n)
	}

	// The primary comes back on the same address; after FailBackAfter of
	// passed probes it is preferred again.
	// Listeners set SO_REUSEADDR; retry briefly in case the closed
	// socket is still being torn down.
	var ln net.Listener
	eventually(t, 2*time.Second, "listening on "+addr+" again", func() bool {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err == nil
	})
	back := &http.Server{Handler: namedHandler("primary again")}
	go back.Serve(ln)
	t.Cleanup(func() { back.Close() })
	restarted := time.Now()
	eventually(t, 10*time.Second, "fail-back", func() bool { return up(primary) == 1 })
	if d := time.Since(restarted); d < 300*time.Millisecond {
		t.Errorf("failed back after %v, before FailBackAfter", d)
	}
	if r := get(t, e.url+"/e.m4s"); r.body != "primary again /e.m4s" {
		t.Errorf("after fail-back: %q, want the primary", r.body)
	}
}

func TestFailoverOnTimeoutAnd5xx(t *testing.T) {
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	cases := []struct {
		name    string
		primary http.HandlerFunc
	}{
		{"5xx", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusInternalServerError)
		}},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			primary := newUpstream(t, tc.primary)
			secondary := newUpstream(t, namedHandler("secondary"))
			e := startEdge(t, Config{
				Upstreams:       []string{primary.URL, secondary.URL},
				UpstreamTimeout: 200 * time.Millisecond,
				FailBackAfter:   time.Hour,
			}, nil)
			if r := get(t, e.url+"/x.m4s"); r.status != 200 || r.body != "secondary /x.m4s" {
				t.Errorf("got %d %q, want the secondary's answer", r.status, r.body)
			}
			if r := get(t, e.url+"/y.m4s"); r.body != "secondary /y.m4s" || primary.total.Load() != 1 {
				t.Errorf("second request: %q, primary asked %d times; want the secondary only", r.body, primary.total.Load())
			}
		})
	}
}

func TestBlockingReload503IsAnAnswer(t *testing.T) {
	primary := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	secondary := newUpstream(t, namedHandler("secondary"))
	e := startEdge(t, Config{Upstreams: []string{primary.URL, secondary.URL}}, nil)
	r := get(t, e.url+"/live/c/r/index.m3u8?_HLS_msn=99")
	if r.status != 503 || r.header.Get("Retry-After") != "1" || secondary.total.Load() != 0 {
		t.Errorf("hold timeout: %d Retry-After %q, secondary asked %d times; want 503 passed on",
			r.status, r.header.Get("Retry-After"), secondary.total.Load())
	}
	if v := testutil.ToFloat64(e.metrics.upstreamUp.WithLabelValues(primary.URL)); v != 1 {
		t.Errorf("primary marked down by a hold timeout")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Upstreams: []string{"ftp://x"}},
		{Upstreams: []string{"http://"}},
		{Upstreams: []string{"http://x?q=1"}},
		{Upstreams: []string{"http://x"}, CacheBytes: -1},
	} {
		if _, err := New(cfg, nil, nil); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}
