package control_test

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDashboardFiles(t *testing.T) {
	cases := []struct {
		path       string
		wantStatus int
		wantType   string
		wantBody   string
	}{
		{"/", 200, "text/html", `<script type="module" src="/assets/list.js">`},
		{"/channels/demo", 200, "text/html", `<video id="video"`},
		{"/channels/demo?player=dash&ll=1", 200, "text/html", `id="rendition"`},
		{"/channels/Not_Valid", 404, "text/plain", "page not found"},
		{"/assets/app.css", 200, "text/css", "--accent"},
		{"/assets/common.js", 200, "text/javascript", "export async function getJSON"},
		{"/assets/list.js", 200, "text/javascript", "/api/v1/channels"},
		{"/assets/channel.js", 200, "text/javascript", "scripts/vendor-web.sh"},
		{"/assets/vendor/README.md", 200, "text/markdown", "vendor-web.sh"},
		{"/assets/", 404, "text/plain", "page not found"},
		{"/assets/vendor/", 404, "text/plain", "page not found"},
		{"/assets/nope.js", 404, "text/plain", "page not found"},
		{"/assets/../api/v1/channels", 307, "", ""}, // the mux redirects to the clean path
		{"/nope", 404, "text/plain", "page not found"},
	}
	e := newAPIEnv(t, "")
	for _, tc := range cases {
		rec := e.do(t, "GET", tc.path, "", "")
		if rec.Code != tc.wantStatus {
			t.Errorf("GET %s: status %d, want %d", tc.path, rec.Code, tc.wantStatus)
			continue
		}
		if ct := rec.Header().Get("Content-Type"); tc.wantType != "" && !strings.HasPrefix(ct, tc.wantType) {
			t.Errorf("GET %s: Content-Type %q, want %s", tc.path, ct, tc.wantType)
		}
		if !strings.Contains(rec.Body.String(), tc.wantBody) {
			t.Errorf("GET %s: body lacks %q", tc.path, tc.wantBody)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" && rec.Code != 307 {
			t.Errorf("GET %s: no nosniff", tc.path)
		}
		if tc.wantType == "text/html" {
			csp := rec.Header().Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("GET %s: CSP %q", tc.path, csp)
			}
		}
	}
}

func TestDashboardRevalidation(t *testing.T) {
	e := newAPIEnv(t, "")
	first := e.do(t, "GET", "/assets/channel.js", "", "")
	etag := first.Header().Get("ETag")
	if etag == "" || first.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q Cache-Control %q", etag, first.Header().Get("Cache-Control"))
	}
	req := httptest.NewRequest("GET", "/assets/channel.js", nil)
	req.RemoteAddr = "127.0.0.1:1"
	req.Header.Set("If-None-Match", etag)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != 304 {
		t.Errorf("If-None-Match: status %d, want 304", rec.Code)
	}
}

// TestDashboardPageHooks checks the contract the player tests rely on.
func TestDashboardPageHooks(t *testing.T) {
	e := newAPIEnv(t, "")
	js := e.do(t, "GET", "/assets/channel.js", "", "").Body.String()
	for _, want := range []string{
		"window.onair = onair", "currentTime:", "latency:", "level:", "buffered:",
		"/assets/vendor/", "'hls.min.js'", "'dash.all.min.js'", "Run scripts/vendor-web.sh",
		"lowLatencyMode", "getCurrentLiveLatency", "setRepresentationForTypeById", "hls.currentLevel",
	} {
		if !strings.Contains(js, want) {
			t.Errorf("channel.js lacks %q", want)
		}
	}
}
