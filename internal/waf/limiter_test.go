package waf

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func TestLimiterBucket(t *testing.T) {
	l := newLimiter(Limit{Rate: 10, Burst: 2}, 10)
	for i, tc := range []struct {
		at    time.Duration
		ok    bool
		retry time.Duration
		first bool
	}{
		{0, true, 0, false},
		{0, true, 0, false},
		{0, false, 100 * time.Millisecond, true},
		{0, false, 100 * time.Millisecond, false}, // still limited: not news
		{40 * time.Millisecond, false, 60 * time.Millisecond, false},
		{100 * time.Millisecond, true, 0, false},
		{100 * time.Millisecond, false, 100 * time.Millisecond, true},
		{50 * time.Millisecond, false, 100 * time.Millisecond, false}, // a clock that goes back earns nothing
		{10 * time.Second, true, 0, false},
		{10 * time.Second, true, 0, false}, // the burst caps the refill
		{10 * time.Second, false, 100 * time.Millisecond, true},
	} {
		v := l.take(1, t0.Add(tc.at))
		if v.ok != tc.ok || v.first != tc.first || (!v.ok && (v.retry-tc.retry).Abs() > time.Millisecond) {
			t.Errorf("take %d at %v = %+v, want ok %v retry %v first %v", i, tc.at, v, tc.ok, tc.retry, tc.first)
		}
	}
}

func TestLimiterTinyRate(t *testing.T) {
	l := newLimiter(Limit{Rate: 1e-12, Burst: 1}, 1)
	l.take(1, t0)
	if v := l.take(1, t0); v.ok || v.retry != maxRetry {
		t.Errorf("take = %+v, want a refusal with retry %v", v, maxRetry)
	}
}

func TestLimiterBounded(t *testing.T) {
	l := newLimiter(Limit{Rate: 1, Burst: 1}, 3)
	for k := range uint64(3) {
		l.take(k, t0)
	}
	l.take(0, t0) // 0 is now the most recently used: 1 goes first
	l.take(3, t0)
	if n := l.len(); n != 3 {
		t.Fatalf("%d entries, want 3", n)
	}
	if l.evictions() != 1 {
		t.Errorf("%d evictions, want 1", l.evictions())
	}
	// 1 was dropped: it starts again with a full burst. 0 was kept: it
	// is still spent.
	if v := l.take(1, t0); !v.ok {
		t.Error("evicted client still limited")
	}
	if v := l.take(0, t0); v.ok {
		t.Error("kept client lost its state")
	}

	// Many clients, many shards: never beyond the bound.
	big := newLimiter(Limit{Rate: 1, Burst: 1}, 1000)
	for k := range uint64(100_000) {
		big.take(k*0x9e3779b97f4a7c15, t0)
	}
	if n := big.len(); n > 1000+len(big.shards) {
		t.Errorf("%d entries, want at most about 1000", n)
	}
}

func TestLimiterSweep(t *testing.T) {
	l := newLimiter(Limit{Rate: 1, Burst: 5}, 100)
	l.take(1, t0) // 4 left: full again 1 s later
	for range 5 {
		l.take(2, t0) // 0 left: full 5 s later
	}
	if n := l.sweep(t0.Add(500 * time.Millisecond)); n != 0 {
		t.Errorf("swept %d at 0.5 s, want 0", n)
	}
	if n := l.sweep(t0.Add(time.Second)); n != 1 {
		t.Errorf("swept %d at 1 s, want 1", n)
	}
	if n := l.sweep(t0.Add(5 * time.Second)); n != 1 {
		t.Errorf("swept %d at 5 s, want 1", n)
	}
	if l.len() != 0 {
		t.Errorf("%d entries left", l.len())
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := newLimiter(Limit{Rate: 1e-9, Burst: 100}, 1000)
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for range 8 {
		wg.Go(func() {
			n := 0
			for i := range 200 {
				if l.take(uint64(i%2), t0).ok {
					n++
				}
				if i%50 == 0 {
					l.sweep(t0)
				}
			}
			mu.Lock()
			admitted += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if admitted != 200 { // two keys, 100 each, no refill
		t.Errorf("admitted %d, want 200", admitted)
	}
}

// TestRunSweeps checks that Run empties the tables of idle clients on its
// own clock and returns nil when cancelled.
func TestRunSweeps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w, err := New(Config{Enabled: true, IPRate: Limit{Rate: 1, Burst: 10}, TokenRate: Limit{Rate: 1, Burst: 10}}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		h := w.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		for i := range 20 {
			r := httptest.NewRequest("GET", "/live/news/720p30/1.m4s?onair_token=t.t.k"+string(rune('a'+i)), nil)
			r.RemoteAddr = netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), 4000).String()
			h.ServeHTTP(httptest.NewRecorder(), r)
		}
		if w.ipLim.len() != 20 || w.tokenLim.len() != 20 {
			t.Fatalf("tracked %d addresses and %d tokens, want 20 and 20", w.ipLim.len(), w.tokenLim.len())
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		time.Sleep(sweepEvery + time.Second)
		synctest.Wait()
		if w.ipLim.len() != 0 || w.tokenLim.len() != 0 {
			t.Errorf("after a sweep: %d addresses and %d tokens tracked, want 0", w.ipLim.len(), w.tokenLim.len())
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
}

func TestLogThrottle(t *testing.T) {
	lt := newLogThrottle()
	for i := range logBurst {
		if _, ok := lt.allow(t0); !ok {
			t.Fatalf("line %d held back within the burst", i)
		}
	}
	for range 7 {
		if _, ok := lt.allow(t0); ok {
			t.Fatal("line beyond the burst logged")
		}
	}
	n, ok := lt.allow(t0.Add(time.Second / logRate))
	if !ok || n != 7 {
		t.Fatalf("allow after a refill = %d, %v; want 7 suppressed, true", n, ok)
	}
}

func TestDefaultToken(t *testing.T) {
	for _, tc := range []struct {
		name    string
		target  string
		headers map[string]string
		want    string
	}{
		{"none", "/live/news/master.m3u8", nil, ""},
		{"param", "/live/news/master.m3u8?onair_token=a.b.c", nil, "a.b.c"},
		{"param after others", "/x?_HLS_msn=3&onair_token=a.b.c&_HLS_part=1", nil, "a.b.c"},
		{"similar name", "/x?onair_token_x=1&xonair_token=2", nil, ""},
		{"param beats cookie", "/x?onair_token=p", map[string]string{"Cookie": "onair_token=c"}, "p"},
		{"cookie", "/x", map[string]string{"Cookie": "a=1; onair_token=c.d.e"}, "c.d.e"},
		{"bearer", "/api/v1/channels", map[string]string{"Authorization": "Bearer s3cret"}, "s3cret"},
		{"bearer lower case", "/api/v1/channels", map[string]string{"Authorization": "bearer s3cret"}, "s3cret"},
		{"basic is not a token", "/api/v1/channels", map[string]string{"Authorization": "Basic dTpw"}, ""},
	} {
		r := httptest.NewRequest("GET", tc.target, nil)
		for k, v := range tc.headers {
			r.Header.Set(k, v)
		}
		if got := DefaultToken(r); got != tc.want {
			t.Errorf("%s: DefaultToken = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestDefaultClassify(t *testing.T) {
	for _, tc := range []struct {
		target string
		want   Mode
	}{
		{"/live/news/720p30/1.m4s", ModeCheap},
		{"/live/news/720p30/1.2.m4s?_HLS_msn=1", ModeCheap},
		{"/live/news/720p30/init.mp4", ModeCheap},
		{"/live/news/720p30/index.m3u8", ModeFull},
		{"/live/news/master.m3u8", ModeFull},
		{"/live/news/manifest.mpd", ModeFull},
		{"/api/v1/channels", ModeFull},
		{"/keys/license", ModeFull},
		{"/x/news/720p30/1.m4s", ModeFull},
		{"/time", ModeFull},
	} {
		if got := DefaultClassify(httptest.NewRequest("GET", tc.target, nil)); got != tc.want {
			t.Errorf("DefaultClassify(%s) = %v, want %v", tc.target, got, tc.want)
		}
	}
}
