package edgetest

import (
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testConfig is a small channel: D = 1 s of four 250 ms parts, 4 s
// listed, parts of 1000 bytes. New makes segments 0 to 3 complete.
func testConfig() Config {
	return Config{
		Channel: "ch",
		Renditions: []Rendition{
			{Name: "hi", Bandwidth: 2_000_000, PartBytes: 1000},
			{Name: "lo", Bandwidth: 500_000},
		},
		Window: 4 * time.Second,
	}
}

func newTestOrigin(t *testing.T, cfg Config) *Origin {
	t.Helper()
	o, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return o
}

// serve runs one request to completion.
func serve(o *Origin, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	o.Handler().ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestConfig(t *testing.T) {
	cases := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "zero value", cfg: Config{}},
		{name: "part does not divide segment", cfg: Config{Segment: time.Second, Part: 300 * time.Millisecond}, wantErr: "whole multiple"},
		{name: "bad channel name", cfg: Config{Channel: "a/b"}, wantErr: "channel name"},
		{name: "empty renditions", cfg: Config{Renditions: []Rendition{}}, wantErr: "no renditions"},
		{name: "duplicate rendition", cfg: Config{Renditions: []Rendition{{Name: "a", Bandwidth: 1}, {Name: "a", Bandwidth: 1}}}, wantErr: "used twice"},
		{name: "no bandwidth", cfg: Config{Renditions: []Rendition{{Name: "a"}}}, wantErr: "bandwidth"},
		{name: "negative window", cfg: Config{Window: -time.Second}, wantErr: "negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := New(c.cfg)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("New: error %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			got := o.Config()
			if got.Channel != DefaultChannel || got.Segment != time.Second || got.Part != 250*time.Millisecond ||
				got.BlockTimeout != 3*time.Second || len(got.Renditions) != 3 || got.Preroll != 60 {
				t.Errorf("defaults: %+v", got)
			}
		})
	}
}

// The media playlist is onair's format, and it advances in real time:
// golden files at the start (segment 3 just complete) and 1.25 s later.
func TestMediaPlaylistAdvances(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newTestOrigin(t, testConfig())
		for _, step := range []struct {
			after  time.Duration
			golden string
		}{
			{0, "media_complete.m3u8"},
			{1250 * time.Millisecond, "media_in_progress.m3u8"},
		} {
			time.Sleep(step.after)
			rec := serve(o, http.MethodGet, "/live/ch/hi/index.m3u8")
			if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "public, max-age=1" ||
				rec.Header().Get("Content-Type") != "application/vnd.apple.mpegurl" {
				t.Fatalf("%s: %d %v", step.golden, rec.Code, rec.Header())
			}
			golden(t, step.golden, rec.Body.Bytes())
		}
		rec := serve(o, http.MethodGet, "/live/ch/master.m3u8")
		golden(t, "master.m3u8", rec.Body.Bytes())
	})
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s--- want\n%s", name, got, want)
	}
}

// Blocking reloads are held until the part asked for exists (or the
// block timeout), with onair's answers to malformed and far directives.
func TestBlockingReload(t *testing.T) {
	cases := []struct {
		name       string
		query      string
		timeout    time.Duration
		wantStatus int
		wantWait   time.Duration
		wantCache  string
		wantPart   string // a part the answer must list
	}{
		{name: "next part", query: "_HLS_msn=4&_HLS_part=0", wantStatus: 200, wantWait: 250 * time.Millisecond, wantCache: cachePlaylist, wantPart: "4.0.m4s"},
		{name: "part past the segment's last is the next segment's first", query: "_HLS_msn=3&_HLS_part=4", wantStatus: 200, wantWait: 250 * time.Millisecond, wantCache: cachePlaylist, wantPart: "4.0.m4s"},
		{name: "existing part", query: "_HLS_msn=3&_HLS_part=1", wantStatus: 200, wantCache: cachePlaylist, wantPart: "3.3.m4s"},
		{name: "complete segment", query: "_HLS_msn=3", wantStatus: 200, wantCache: cachePlaylist},
		{name: "whole next segment", query: "_HLS_msn=4", wantStatus: 200, wantWait: time.Second, wantCache: cachePlaylist, wantPart: "4.3.m4s"},
		{name: "two segments ahead", query: "_HLS_msn=5&_HLS_part=2", wantStatus: 200, wantWait: 1750 * time.Millisecond, wantCache: cachePlaylist, wantPart: "5.2.m4s"},
		{name: "hold timeout", query: "_HLS_msn=5&_HLS_part=2", timeout: time.Second, wantStatus: 503, wantWait: time.Second, wantCache: cacheNone},
		{name: "too far ahead", query: "_HLS_msn=6", wantStatus: 400, wantCache: cacheNone},
		{name: "part without msn", query: "_HLS_part=1", wantStatus: 400, wantCache: cacheNone},
		{name: "malformed msn", query: "_HLS_msn=-1", wantStatus: 400, wantCache: cacheNone},
		{name: "repeated msn", query: "_HLS_msn=4&_HLS_msn=4", wantStatus: 400, wantCache: cacheNone},
		{name: "other parameters are ignored", query: "token=abc", wantStatus: 200, wantCache: cachePlaylist, wantPart: "3.3.m4s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := testConfig()
				cfg.BlockTimeout = c.timeout
				o := newTestOrigin(t, cfg)
				start := time.Now()
				rec := serve(o, http.MethodGet, "/live/ch/hi/index.m3u8?"+c.query)
				if waited := time.Since(start); rec.Code != c.wantStatus || waited != c.wantWait {
					t.Fatalf("status %d after %v, want %d after %v\n%s", rec.Code, waited, c.wantStatus, c.wantWait, rec.Body)
				}
				if cc := rec.Header().Get("Cache-Control"); cc != c.wantCache {
					t.Errorf("Cache-Control %q, want %q", cc, c.wantCache)
				}
				if c.wantStatus == 503 && rec.Header().Get("Retry-After") != "1" {
					t.Errorf("503 without Retry-After: %v", rec.Header())
				}
				if c.wantPart != "" && !strings.Contains(rec.Body.String(), `URI="`+c.wantPart+`"`) {
					t.Errorf("answer does not list %s:\n%s", c.wantPart, rec.Body)
				}
			})
		})
	}
}

func TestObjects(t *testing.T) {
	cases := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantWait   time.Duration
		wantCache  string
		wantType   string
		wantSize   int
	}{
		{name: "init", path: "/live/ch/hi/init.mp4", wantStatus: 200, wantCache: "public, max-age=11", wantType: "video/mp4", wantSize: 1024},
		{name: "segment", path: "/live/ch/hi/3.m4s", wantStatus: 200, wantCache: "public, max-age=11", wantType: "video/iso.segment", wantSize: 4000},
		{name: "old segment", path: "/live/ch/hi/0.m4s", wantStatus: 200, wantCache: "public, max-age=11", wantType: "video/iso.segment", wantSize: 4000},
		{name: "part", path: "/live/ch/hi/3.2.m4s", wantStatus: 200, wantCache: "public, max-age=11", wantType: "video/iso.segment", wantSize: 1000},
		{name: "part size from bandwidth", path: "/live/ch/lo/3.2.m4s", wantStatus: 200, wantCache: "public, max-age=11", wantType: "video/iso.segment", wantSize: 500_000 / 8 / 4},
		{name: "next part is held", path: "/live/ch/hi/4.0.m4s", wantStatus: 200, wantWait: 250 * time.Millisecond, wantCache: "public, max-age=11", wantType: "video/iso.segment", wantSize: 1000},
		{name: "next segment is held", path: "/live/ch/hi/4.m4s", wantStatus: 200, wantWait: time.Second, wantCache: "public, max-age=11", wantType: "video/iso.segment", wantSize: 4000},
		{name: "HEAD", method: http.MethodHead, path: "/live/ch/hi/3.m4s", wantStatus: 200, wantCache: "public, max-age=11", wantType: "video/iso.segment", wantSize: 4000},
		{name: "part past the last of a segment", path: "/live/ch/hi/3.4.m4s", wantStatus: 404, wantCache: cacheNotFound},
		{name: "too far ahead", path: "/live/ch/hi/6.m4s", wantStatus: 404, wantCache: cacheNotFound},
		{name: "huge segment number", path: "/live/ch/hi/999999999999999.m4s", wantStatus: 404, wantCache: cacheNotFound},
		{name: "unknown rendition", path: "/live/ch/mid/3.m4s", wantStatus: 404, wantCache: cacheNotFound},
		{name: "unknown channel", path: "/live/other/master.m3u8", wantStatus: 404, wantCache: cacheNotFound},
		{name: "other init", path: "/live/ch/hi/init-5.mp4", wantStatus: 404, wantCache: cacheNotFound},
		{name: "leading zero", path: "/live/ch/hi/03.m4s", wantStatus: 404, wantCache: cacheNotFound},
		{name: "POST", method: http.MethodPost, path: "/live/ch/hi/3.m4s", wantStatus: 405, wantCache: cacheNone},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				o := newTestOrigin(t, testConfig())
				method := c.method
				if method == "" {
					method = http.MethodGet
				}
				start := time.Now()
				rec := serve(o, method, c.path)
				if waited := time.Since(start); rec.Code != c.wantStatus || waited != c.wantWait {
					t.Fatalf("status %d after %v, want %d after %v", rec.Code, waited, c.wantStatus, c.wantWait)
				}
				h := rec.Header()
				if h.Get("Cache-Control") != c.wantCache || h.Get("Access-Control-Allow-Origin") != "*" {
					t.Errorf("headers %v, want Cache-Control %q and CORS", h, c.wantCache)
				}
				if c.wantStatus != 200 {
					return
				}
				if h.Get("Content-Type") != c.wantType || h.Get("Content-Length") != strconv.Itoa(c.wantSize) {
					t.Errorf("Content-Type %q Content-Length %q, want %q %d", h.Get("Content-Type"), h.Get("Content-Length"), c.wantType, c.wantSize)
				}
				body := rec.Body.String()
				if method == http.MethodHead {
					if body != "" {
						t.Errorf("HEAD answered with %d body bytes", len(body))
					}
					return
				}
				if len(body) != c.wantSize || !strings.HasPrefix(body, c.path+"\n") {
					t.Errorf("body: %d bytes starting %.40q, want %d starting with the path", len(body), body, c.wantSize)
				}
			})
		})
	}
}

// A viewer that goes away ends its hold at once, with nothing written.
func TestHoldEndsWithClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newTestOrigin(t, testConfig())
		for _, path := range []string{"/live/ch/hi/index.m3u8?_HLS_msn=5", "/live/ch/hi/4.m4s"} {
			ctx, cancel := context.WithCancel(context.Background())
			rec := httptest.NewRecorder()
			done := make(chan struct{})
			go func() {
				defer close(done)
				o.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil))
			}()
			time.Sleep(100 * time.Millisecond)
			start := time.Now()
			cancel()
			<-done
			if time.Since(start) != 0 || rec.Body.Len() != 0 || rec.Header().Get("Cache-Control") != "" {
				t.Errorf("%s: hold lasted %v after the client left and wrote %q %v", path, time.Since(start), rec.Body, rec.Header())
			}
		}
	})
}

// Requests are counted by target; a blocking reload's target is its
// canonical directive, whatever else its query says.
func TestRequestsCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newTestOrigin(t, testConfig())
		for _, target := range []string{
			"/live/ch/master.m3u8",
			"/live/ch/hi/index.m3u8",
			"/live/ch/hi/index.m3u8?token=a",
			"/live/ch/hi/index.m3u8?_HLS_part=1&_HLS_msn=3",
			"/live/ch/hi/index.m3u8?_HLS_msn=3&_HLS_part=1&token=b",
			"/live/ch/hi/index.m3u8?_HLS_msn=3",
			"/live/ch/hi/init.mp4",
			"/live/ch/lo/2.m4s",
			"/live/ch/lo/2.m4s?session=1",
			"/live/ch/lo/2.3.m4s",
			"/nothing",
		} {
			serve(o, http.MethodGet, target)
		}
		want := []Request{
			{Target: "/live/ch/hi/index.m3u8", Kind: KindPlaylist, Rendition: "hi", Segment: -1, Part: -1, Count: 2},
			{Target: "/live/ch/hi/index.m3u8?_HLS_msn=3", Kind: KindBlocking, Rendition: "hi", Segment: 3, Part: -1, Count: 1},
			{Target: "/live/ch/hi/index.m3u8?_HLS_msn=3&_HLS_part=1", Kind: KindBlocking, Rendition: "hi", Segment: 3, Part: 1, Count: 2},
			{Target: "/live/ch/hi/init.mp4", Kind: KindInit, Rendition: "hi", Segment: -1, Part: -1, Count: 1},
			{Target: "/live/ch/lo/2.3.m4s", Kind: KindPart, Rendition: "lo", Segment: 2, Part: 3, Count: 1},
			{Target: "/live/ch/lo/2.m4s", Kind: KindSegment, Rendition: "lo", Segment: 2, Part: -1, Count: 2},
			{Target: "/live/ch/master.m3u8", Kind: KindMaster, Segment: -1, Part: -1, Count: 1},
			{Target: "/nothing", Kind: KindOther, Segment: -1, Part: -1, Count: 1},
		}
		got := o.Requests()
		if len(got) != len(want) {
			t.Fatalf("Requests() = %+v\nwant %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("Requests()[%d] = %+v, want %+v", i, got[i], want[i])
			}
		}
		if o.Total() != 11 {
			t.Errorf("Total() = %d, want 11", o.Total())
		}
	})
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindOther: "other", KindBlocking: "blocking", KindPart: "part", Kind(42): "kind(42)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}
