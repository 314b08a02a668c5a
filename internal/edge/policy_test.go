package edge

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

var policyCases = []struct {
	name     string
	status   int
	cc       string
	extra    map[string]string
	kind     requestKind
	store    bool
	lifetime time.Duration
	swr      time.Duration
	sie      time.Duration
}{
	{name: "segment", status: 200, cc: "public, max-age=12", kind: kindObject, store: true, lifetime: 12 * time.Second, sie: -1},
	{name: "playlist", status: 200, cc: "public, max-age=1", kind: kindManifest, store: true, lifetime: time.Second, swr: time.Second},
	{name: "not yet existing", status: 404, cc: "public, max-age=1", kind: kindObject, store: true, lifetime: time.Second, sie: -1},
	{name: "s-maxage wins", status: 200, cc: "max-age=0, s-maxage=5", store: true, lifetime: 5 * time.Second, sie: -1},
	{name: "explicit stale windows", status: 200, cc: "max-age=2, stale-while-revalidate=7, stale-if-error=9", kind: kindManifest,
		store: true, lifetime: 2 * time.Second, swr: 7 * time.Second, sie: 9 * time.Second},
	{name: "upstream age deducted later", status: 200, cc: "max-age=10", extra: map[string]string{"Age": "4"}, store: true, lifetime: 10 * time.Second, sie: -1},
	{name: "already expired upstream", status: 200, cc: "max-age=10", extra: map[string]string{"Age": "10"}},
	{name: "no-store", status: 200, cc: "no-store"},
	{name: "no-store with max-age", status: 200, cc: "max-age=60, no-store"},
	{name: "private", status: 200, cc: "private, max-age=60"},
	{name: "no-cache", status: 200, cc: "no-cache, max-age=60"},
	{name: "upper case", status: 200, cc: "PUBLIC, MAX-AGE=3", store: true, lifetime: 3 * time.Second, sie: -1},
	{name: "quoted value", status: 200, cc: `max-age="3"`, store: true, lifetime: 3 * time.Second, sie: -1},
	{name: "invalid max-age is stale", status: 200, cc: "max-age=abc"},
	{name: "negative max-age", status: 200, cc: "max-age=-5"},
	{name: "zero max-age", status: 200, cc: "max-age=0"},
	{name: "no freshness", status: 200, cc: "public"},
	{name: "no header", status: 200},
	{name: "server error", status: 500, cc: "max-age=60"},
	{name: "unavailable", status: 503, cc: "max-age=60"},
	{name: "forbidden", status: 403, cc: "max-age=60"},
	{name: "partial", status: 206, cc: "max-age=60"},
	{name: "vary", status: 200, cc: "max-age=60", extra: map[string]string{"Vary": "Accept"}},
	{name: "huge max-age capped", status: 200, cc: "max-age=99999999999999999999", store: true, lifetime: maxDelta, sie: -1},
}

func TestPolicy(t *testing.T) {
	for _, tc := range policyCases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.cc != "" {
				h.Set("Cache-Control", tc.cc)
			}
			for k, v := range tc.extra {
				h.Set(k, v)
			}
			f := policy(tc.status, h, tc.kind)
			if f.store != tc.store {
				t.Fatalf("store = %v, want %v", f.store, tc.store)
			}
			if !tc.store {
				return
			}
			if f.lifetime != tc.lifetime || f.swr != tc.swr || f.sie != tc.sie {
				t.Errorf("lifetime, swr, sie = %v, %v, %v; want %v, %v, %v", f.lifetime, f.swr, f.sie, tc.lifetime, tc.swr, tc.sie)
			}
		})
	}
}

func FuzzCacheControl(f *testing.F) {
	for _, tc := range policyCases {
		f.Add(tc.cc)
	}
	f.Fuzz(func(t *testing.T, v string) {
		cc := parseCacheControl([]string{v})
		if cc.maxAge < 0 || cc.sMaxAge < 0 || cc.swr < 0 || cc.sie < 0 {
			t.Fatalf("negative duration from %q: %+v", v, cc)
		}
		if cc.maxAge > maxDelta || cc.sMaxAge > maxDelta {
			t.Fatalf("uncapped duration from %q: %+v", v, cc)
		}
	})
}

func TestNewTarget(t *testing.T) {
	strip := map[string]bool{"token": true, "utm_source": true}
	cases := []struct {
		url      string
		key      string
		kind     requestKind
		blocking bool
	}{
		{"/live/c/720p/1.m4s", "/live/c/720p/1.m4s", kindObject, false},
		{"/live/c/720p/1.m4s?token=abc", "/live/c/720p/1.m4s", kindObject, false},
		{"/live/c/720p/1.m4s?TOKEN=abc&utm_source=x", "/live/c/720p/1.m4s", kindObject, false},
		{"/live/c/720p/index.m3u8?_HLS_part=2&token=z&_HLS_msn=10", "/live/c/720p/index.m3u8?_HLS_msn=10&_HLS_part=2", kindManifest, true},
		{"/live/c/720p/index.m3u8?_HLS_msn=10&_HLS_part=2", "/live/c/720p/index.m3u8?_HLS_msn=10&_HLS_part=2", kindManifest, true},
		{"/live/c/720p/index.m3u8?_HLS_skip=YES", "/live/c/720p/index.m3u8?_HLS_skip=YES", kindManifest, false},
		{"/live/c/master.m3u8?b=2&a=1&a=0", "/live/c/master.m3u8?a=0&a=1&b=2", kindManifest, false},
		{"/live/c/manifest.mpd", "/live/c/manifest.mpd", kindManifest, false},
		{"/live/c/720p/init.mp4?", "/live/c/720p/init.mp4", kindObject, false},
		{"/a%20b/x.m4s", "/a%20b/x.m4s", kindObject, false},
	}
	for _, tc := range cases {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		got := newTarget(u, strip)
		if got.key != tc.key || got.kind != tc.kind || got.blocking != tc.blocking {
			t.Errorf("newTarget(%q) = %+v, want key %q kind %v blocking %v", tc.url, got, tc.key, tc.kind, tc.blocking)
		}
	}
}

func TestStripParamsKeepsDirectives(t *testing.T) {
	e, err := New(Config{Upstreams: []string{"http://127.0.0.1:1"}, StripParams: []string{"_HLS_msn", "token"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("/x/index.m3u8?_HLS_msn=3&token=1")
	if got := newTarget(u, e.strip).key; got != "/x/index.m3u8?_HLS_msn=3" {
		t.Errorf("key = %q, want the directive kept", got)
	}
}
