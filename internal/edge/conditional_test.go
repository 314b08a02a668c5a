package edge

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

var etagCases = []struct {
	field, etag string
	noneMatch   bool // matchesNoneMatch(field, etag)
	strong      bool // strongMatch(field, etag)
}{
	{`"a"`, `"a"`, true, true},
	{`W/"a"`, `"a"`, true, false},
	{`"a"`, `W/"a"`, true, false},
	{`"b"`, `"a"`, false, false},
	{`"b", "a"`, `"a"`, true, false},
	{` "b" ,W/"a" `, `"a"`, true, false},
	{`*`, `"a"`, true, false},
	{` * `, ``, true, false},
	{`"a`, `"a"`, false, false},
	{`a`, `"a"`, false, false},
	{`"b", garbage, "a"`, `"a"`, false, false},
	{``, `"a"`, false, false},
	{`""`, `""`, true, true},
	{`"a"`, ``, false, false},
	{"\"caf\xc3\xa9\"", "\"caf\xc3\xa9\"", true, true},
	{"\"a b\"", "\"a b\"", false, false}, // a space is not an etagc
}

func TestETagMatching(t *testing.T) {
	for _, tc := range etagCases {
		if got := matchesNoneMatch(tc.field, tc.etag); got != tc.noneMatch {
			t.Errorf("matchesNoneMatch(%q, %q) = %v, want %v", tc.field, tc.etag, got, tc.noneMatch)
		}
		if got := strongMatch(tc.field, tc.etag); got != tc.strong {
			t.Errorf("strongMatch(%q, %q) = %v, want %v", tc.field, tc.etag, got, tc.strong)
		}
	}
}

func FuzzETagMatching(f *testing.F) {
	for _, tc := range etagCases {
		f.Add(tc.field, tc.etag)
	}
	f.Fuzz(func(t *testing.T, field, etag string) {
		if strongMatch(field, etag) && !matchesNoneMatch(field, etag) {
			t.Fatalf("strong match %q %q without a weak one", field, etag)
		}
		if tag, _, _, ok := scanETag(etag); ok && !strings.HasPrefix(strings.TrimLeft(etag, " \t"), "W/") {
			if !strongMatch(tag, tag) || !matchesNoneMatch(tag, tag) {
				t.Fatalf("%q does not match itself", tag)
			}
		}
	})
}

func TestBodyETag(t *testing.T) {
	a, b := bodyETag([]byte("segment 1")), bodyETag([]byte("segment 2"))
	if a == b || a != bodyETag([]byte("segment 1")) {
		t.Errorf("tags %s %s: want stable and distinct", a, b)
	}
	if tag, weak, rest, ok := scanETag(a); !ok || weak || rest != "" || tag != a {
		t.Errorf("%s is not a strong entity-tag", a)
	}
}

// validatorUpstream serves /noetag/... without validators, /etag/... with
// ETag "v1" and a Last-Modified, /missing/... as a cacheable 404.
func validatorUpstream(t *testing.T) *countingUpstream {
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=60")
		h.Set("Content-Type", "video/iso.segment")
		h.Set("Access-Control-Allow-Origin", "*")
		switch {
		case strings.HasPrefix(r.URL.Path, "/etag/"):
			h.Set("ETag", `"v1"`)
			h.Set("Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT")
		case strings.HasPrefix(r.URL.Path, "/missing/"):
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "body of "+r.URL.Path)
	})
}

func TestConditionalRequestsOnCachedObjects(t *testing.T) {
	up := validatorUpstream(t)
	e := startEdge(t, Config{Upstreams: []string{up.URL}}, nil)
	const noetag, etag, missing = "/noetag/1.m4s", "/etag/1.m4s", "/missing/1.m4s"
	for _, p := range []string{noetag, etag, missing} {
		get(t, e.url+p)
	}
	first := get(t, e.url+noetag)
	tag := bodyETag([]byte("body of " + noetag))
	if first.cache() != "HIT" || first.header.Get("ETag") != tag {
		t.Fatalf("a HIT without an upstream ETag: X-Cache %q ETag %q, want HIT %s", first.cache(), first.header.Get("ETag"), tag)
	}
	lm := "Tue, 14 Nov 2023 22:13:20 GMT"
	earlier := "Tue, 14 Nov 2023 21:13:20 GMT"
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	cases := []struct {
		name   string
		method string
		path   string
		header map[string]string
		status int
	}{
		{"edge tag matches", "GET", noetag, map[string]string{"If-None-Match": tag}, 304},
		{"weak comparison", "GET", noetag, map[string]string{"If-None-Match": "W/" + tag}, 304},
		{"one of a list", "GET", noetag, map[string]string{"If-None-Match": `"x", ` + tag}, 304},
		{"star", "GET", noetag, map[string]string{"If-None-Match": "*"}, 304},
		{"head", "HEAD", noetag, map[string]string{"If-None-Match": tag}, 304},
		{"other tag", "GET", noetag, map[string]string{"If-None-Match": `"x"`}, 200},
		{"stored time not after the date", "GET", noetag, map[string]string{"If-Modified-Since": future}, 304},
		{"stored after the date", "GET", noetag, map[string]string{"If-Modified-Since": past}, 200},
		{"upstream tag", "GET", etag, map[string]string{"If-None-Match": `"v1"`}, 304},
		{"upstream tag changed", "GET", etag, map[string]string{"If-None-Match": `"v0"`}, 200},
		{"same date", "GET", etag, map[string]string{"If-Modified-Since": lm}, 304},
		{"older date", "GET", etag, map[string]string{"If-Modified-Since": earlier}, 200},
		{"invalid date ignored", "GET", etag, map[string]string{"If-Modified-Since": "yesterday"}, 200},
		{"If-None-Match wins", "GET", etag, map[string]string{"If-None-Match": `"v0"`, "If-Modified-Since": lm}, 200},
		{"a 404 is never 304", "GET", missing, map[string]string{"If-None-Match": "*"}, 404},
	}
	for _, tc := range cases {
		r := do(t, nil, tc.method, e.url+tc.path, tc.header)
		if r.status != tc.status || r.cache() != "HIT" {
			t.Errorf("%s: %d X-Cache %q, want %d HIT", tc.name, r.status, r.cache(), tc.status)
			continue
		}
		if tc.status != 304 {
			continue
		}
		if r.body != "" || r.header.Get("Content-Type") != "" || r.header.Get("Cache-Control") != "public, max-age=60" ||
			r.header.Get("ETag") == "" || r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Age") == "" {
			t.Errorf("%s: 304 with body %q headers %v", tc.name, r.body, r.header)
		}
	}
	if up.total.Load() != 3 {
		t.Errorf("upstream saw %d requests, want 3 (preconditions never go upstream)", up.total.Load())
	}
	if v := counterValue(e.metrics.notModified); v != 8 {
		t.Errorf("onair_edge_not_modified_total = %v, want 8", v)
	}
}

func TestIfRangeWithEdgeTag(t *testing.T) {
	up := validatorUpstream(t)
	e := startEdge(t, Config{Upstreams: []string{up.URL}}, nil)
	const path = "/noetag/2.m4s"
	body := "body of " + path
	get(t, e.url+path)
	tag := bodyETag([]byte(body))
	cases := []struct {
		ifRange string
		status  int
		body    string
	}{
		{tag, 206, body[2:5]},
		{"W/" + tag, 200, body}, // If-Range needs the strong comparison
		{`"other"`, 200, body},
	}
	for _, tc := range cases {
		r := do(t, nil, "GET", e.url+path, map[string]string{"Range": "bytes=2-4", "If-Range": tc.ifRange})
		if r.status != tc.status || r.body != tc.body {
			t.Errorf("If-Range %s: %d %q, want %d %q", tc.ifRange, r.status, r.body, tc.status, tc.body)
		}
	}
}

func TestConditionalRequestOnMiss(t *testing.T) {
	up := validatorUpstream(t)
	e := startEdge(t, Config{Upstreams: []string{up.URL}}, nil)
	cases := []struct {
		name, path, inm string
		status          int
		etag            string
	}{
		{"upstream tag", "/etag/3.m4s", `"v1"`, 304, `"v1"`},
		{"edge tag, computed once the body is in", "/noetag/3.m4s", bodyETag([]byte("body of /noetag/3.m4s")), 304, ""},
		{"no match streams the body with the edge tag", "/noetag/4.m4s", `"x"`, 200, bodyETag([]byte("body of /noetag/4.m4s"))},
	}
	for _, tc := range cases {
		r := do(t, nil, "GET", e.url+tc.path, map[string]string{"If-None-Match": tc.inm})
		want := tc.etag
		if want == "" {
			want = tc.inm
		}
		if r.status != tc.status || r.cache() != "MISS" || r.header.Get("ETag") != want {
			t.Errorf("%s: %d X-Cache %q ETag %q, want %d MISS %s", tc.name, r.status, r.cache(), r.header.Get("ETag"), tc.status, want)
		}
		if tc.status == 200 && r.body != "body of "+tc.path {
			t.Errorf("%s: body %q", tc.name, r.body)
		}
		// The fill went on into the cache.
		eventually(t, 5*time.Second, tc.path+" cached", func() bool { return get(t, e.url+tc.path).cache() == "HIT" })
		if n := up.count(tc.path); n != 1 {
			t.Errorf("%s: upstream asked %d times, want 1", tc.name, n)
		}
	}
}
