package edgetest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// handlerTransport answers a client's requests with a handler in the
// same goroutine, so viewer tests run inside a synctest bubble.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	return rec.Result(), nil
}

// fetchLog collects what viewers report.
type fetchLog struct {
	mu      sync.Mutex
	fetches []Fetch
}

func (l *fetchLog) observe(f Fetch) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fetches = append(l.fetches, f)
}

// playViewers runs viewers against h for d of bubble time.
func playViewers(t *testing.T, h http.Handler, d time.Duration, cfgs ...ViewerConfig) *fetchLog {
	t.Helper()
	log := &fetchLog{}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	for _, cfg := range cfgs {
		cfg.Client = &http.Client{Transport: handlerTransport{h}}
		cfg.Observe = log.observe
		v, err := NewViewer(cfg)
		if err != nil {
			t.Fatalf("NewViewer: %v", err)
		}
		wg.Go(func() {
			if err := v.Run(ctx); err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	wg.Wait()
	return log
}

// Low-latency viewers follow the live edge part by part: every part
// once, in order, each after one blocking reload; plain viewers every
// segment once.
func TestViewersPlayEveryObjectOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newTestOrigin(t, testConfig())
		base := "http://origin.test"
		ll := ViewerConfig{Master: base + o.MasterPath(), Playlist: base + o.PlaylistPath("hi"), LowLatency: true}
		plain := ViewerConfig{Playlist: base + o.PlaylistPath("lo"), Poll: 500 * time.Millisecond, Query: "token=v2"}
		log := playViewers(t, o.Handler(), 5*time.Second+100*time.Millisecond, ll, ll, plain)

		kinds := map[Kind]int{}
		var partURLs []string
		for _, f := range log.fetches {
			if f.Err != nil || f.Status != 200 {
				t.Errorf("%s %s: %d %v", f.Kind, f.URL, f.Status, f.Err)
			}
			kinds[f.Kind]++
			if f.Kind == KindPart {
				partURLs = append(partURLs, f.URL)
			}
			if strings.Contains(f.URL, "/lo/") && !strings.HasSuffix(f.URL, "token=v2") {
				t.Errorf("plain viewer's request %s lacks its query", f.URL)
			}
		}
		// Each viewer starts at part 3.3 (the newest) and sees the 20
		// parts that complete within 5 s.
		if kinds[KindPart] != 2*21 || kinds[KindBlocking] != 2*20 || kinds[KindMaster] != 2 || kinds[KindInit] != 3 {
			t.Errorf("fetches by kind %v, want 42 parts, 40 blocking reloads, 2 masters, 3 inits", kinds)
		}
		// Starting at segment 3, the plain viewer sees 4 to 8 complete.
		if kinds[KindSegment] != 6 || kinds[KindPlaylist] < 10 {
			t.Errorf("fetches by kind %v, want 6 segments and 10 or more plain reloads", kinds)
		}
		for _, r := range o.Requests() {
			switch r.Kind {
			case KindPart, KindBlocking:
				if r.Count != 2 {
					t.Errorf("%s asked for %d times, want once per low-latency viewer", r.Target, r.Count)
				}
			case KindSegment:
				if r.Count != 1 {
					t.Errorf("%s asked for %d times, want once", r.Target, r.Count)
				}
			}
		}
		if len(partURLs) > 0 && !strings.HasSuffix(partURLs[0], "/hi/3.3.m4s") {
			t.Errorf("first part %s, want the newest (3.3)", partURLs[0])
		}
	})
}

// A body that is not the object asked for, an error status and an origin
// that is gone are reported, and the viewer carries on.
func TestViewerReportsErrors(t *testing.T) {
	cases := []struct {
		name    string
		mangle  func(w http.ResponseWriter, r *http.Request) bool // true: answered
		wantErr string
	}{
		{name: "wrong body", mangle: func(w http.ResponseWriter, r *http.Request) bool {
			if strings.HasSuffix(r.URL.Path, ".m4s") {
				w.Write([]byte("/live/ch/hi/0.m4s\nxxxx"))
				return true
			}
			return false
		}, wantErr: "body does not start with"},
		{name: "error status", mangle: func(w http.ResponseWriter, r *http.Request) bool {
			if strings.HasSuffix(r.URL.Path, ".m4s") {
				w.WriteHeader(http.StatusBadGateway)
				return true
			}
			return false
		}, wantErr: "HTTP 502"},
		{name: "not a playlist", mangle: func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.RawQuery != "" {
				w.Write([]byte("<html>"))
				return true
			}
			return false
		}, wantErr: "not an HLS playlist"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				o := newTestOrigin(t, testConfig())
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if !c.mangle(w, r) {
						o.Handler().ServeHTTP(w, r)
					}
				})
				log := playViewers(t, h, 2*time.Second, ViewerConfig{Playlist: "http://origin.test" + o.PlaylistPath("hi"), LowLatency: true})
				var errs, ok int
				for _, f := range log.fetches {
					switch {
					case f.Err == nil:
						ok++
					case strings.Contains(f.Err.Error(), c.wantErr):
						errs++
					default:
						t.Errorf("unexpected error %v", f.Err)
					}
				}
				if errs < 2 || ok == 0 {
					t.Errorf("%d fetches failed with %q and %d succeeded; want the viewer to report and carry on", errs, c.wantErr, ok)
				}
			})
		})
	}
}

func TestNewViewerRejects(t *testing.T) {
	for _, cfg := range []ViewerConfig{
		{Playlist: ""},
		{Playlist: "/live/ch/hi/index.m3u8"},
		{Playlist: "ftp://h/live/ch/hi/index.m3u8"},
		{Playlist: "http://h/live/ch/hi/index.m3u8?x=1"},
		{Playlist: "http://h/live/ch/hi/index.m3u8", Poll: -1},
	} {
		if _, err := NewViewer(cfg); err == nil {
			t.Errorf("NewViewer(%+v) accepted", cfg)
		}
	}
}
