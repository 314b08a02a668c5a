package control_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/control"
)

const testToken = "s3cret-operator-token"

func TestAuth(t *testing.T) {
	const (
		loop   = "127.0.0.1:50000"
		loop6  = "[::1]:50000"
		mapped = "[::ffff:127.0.0.9]:50000"
		remote = "203.0.113.7:50000"
		lan    = "192.168.1.20:50000"
	)
	cases := []struct {
		name       string
		token      string // server token
		remoteAddr string
		method     string
		path       string
		header     string // Authorization
		cookie     string // onair_session value; "valid" = the one the server sets
		wantStatus int
		wantBody   string
		wantReason string // auth failure reason counted, "" for none
	}{
		// No token: loopback only.
		{name: "no token, loopback api", remoteAddr: loop, path: "/api/v1/channels", wantStatus: 200},
		{name: "no token, ::1 api", remoteAddr: loop6, path: "/api/v1/channels", wantStatus: 200},
		{name: "no token, mapped loopback", remoteAddr: mapped, path: "/api/v1/channels", wantStatus: 200},
		{name: "no token, loopback dashboard", remoteAddr: loop, path: "/", wantStatus: 200},
		{name: "no token, remote api", remoteAddr: remote, path: "/api/v1/channels", wantStatus: 403,
			wantBody: "set an operator token", wantReason: "not_loopback"},
		{name: "no token, lan api post", remoteAddr: lan, method: "POST", path: "/api/v1/channels", wantStatus: 403,
			wantBody: "set an operator token", wantReason: "not_loopback"},
		{name: "no token, remote dashboard", remoteAddr: remote, path: "/channels/demo", wantStatus: 403,
			wantBody: "set an operator token", wantReason: "not_loopback"},
		{name: "no token, remote assets", remoteAddr: remote, path: "/assets/app.css", wantStatus: 403, wantReason: "not_loopback"},
		{name: "no token, remote with a bearer", remoteAddr: remote, path: "/api/v1/channels",
			header: "Bearer whatever", wantStatus: 403, wantReason: "not_loopback"},
		{name: "no token, bad remote addr", remoteAddr: "pipe", path: "/api/v1/channels", wantStatus: 403, wantReason: "not_loopback"},

		// Token: every API request needs it, loopback included.
		{name: "token, missing", token: testToken, remoteAddr: loop, path: "/api/v1/channels", wantStatus: 401,
			wantBody: "missing operator token", wantReason: "missing_token"},
		{name: "token, wrong", token: testToken, remoteAddr: remote, path: "/api/v1/channels",
			header: "Bearer nope", wantStatus: 401, wantBody: "wrong operator token", wantReason: "wrong_token"},
		{name: "token, prefix of right", token: testToken, remoteAddr: remote, path: "/api/v1/channels",
			header: "Bearer " + testToken[:5], wantStatus: 401, wantReason: "wrong_token"},
		{name: "token, basic scheme", token: testToken, remoteAddr: remote, path: "/api/v1/channels",
			header: "Basic " + testToken, wantStatus: 401, wantReason: "missing_token"},
		{name: "token, right", token: testToken, remoteAddr: remote, path: "/api/v1/channels",
			header: "Bearer " + testToken, wantStatus: 200},
		{name: "token, right lowercase scheme", token: testToken, remoteAddr: remote, path: "/api/v1/channels",
			header: "bearer " + testToken, wantStatus: 200},
		{name: "token, right post", token: testToken, remoteAddr: remote, method: "POST", path: "/api/v1/channels/demo/stop",
			header: "Bearer " + testToken, wantStatus: 200},
		{name: "token, cookie get", token: testToken, remoteAddr: remote, path: "/api/v1/channels",
			cookie: "valid", wantStatus: 200},
		{name: "token, cookie post", token: testToken, remoteAddr: remote, method: "POST", path: "/api/v1/channels/demo/stop",
			cookie: "valid", wantStatus: 401, wantBody: "Authorization: Bearer", wantReason: "cookie_unsafe_method"},
		{name: "token, cookie delete", token: testToken, remoteAddr: remote, method: "DELETE", path: "/api/v1/channels/demo",
			cookie: "valid", wantStatus: 401, wantReason: "cookie_unsafe_method"},
		{name: "token, stale cookie", token: testToken, remoteAddr: remote, path: "/api/v1/channels",
			cookie: "0123", wantStatus: 401, wantBody: "?token=", wantReason: "wrong_token"},
		{name: "token, dashboard without", token: testToken, remoteAddr: remote, path: "/", wantStatus: 401,
			wantBody: "?token=", wantReason: "missing_token"},
		{name: "token, dashboard loopback without", token: testToken, remoteAddr: loop, path: "/channels/demo", wantStatus: 401,
			wantReason: "missing_token"},
		{name: "token, dashboard wrong query", token: testToken, remoteAddr: remote, path: "/?token=nope", wantStatus: 401,
			wantBody: "wrong operator token", wantReason: "wrong_token"},
		{name: "token, dashboard cookie", token: testToken, remoteAddr: remote, path: "/channels/demo",
			cookie: "valid", wantStatus: 200},
		{name: "token, dashboard bearer", token: testToken, remoteAddr: remote, path: "/",
			header: "Bearer " + testToken, wantStatus: 200},
		{name: "token, dashboard stale cookie", token: testToken, remoteAddr: remote, path: "/",
			cookie: "x", wantStatus: 401, wantReason: "wrong_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newAPIEnv(t, tc.token)
			if _, err := e.fake.CreateChannel(t.Context(), control.ChannelSpec{Name: "demo"}, "http://x"); err != nil {
				t.Fatal(err)
			}
			method := tc.method
			if method == "" {
				method = "GET"
			}
			req := httptest.NewRequest(method, tc.path, nil)
			req.RemoteAddr = tc.remoteAddr
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			if tc.cookie != "" {
				v := tc.cookie
				if v == "valid" {
					v = sessionCookie(t, e.h)
				}
				req.AddCookie(&http.Cookie{Name: "onair_session", Value: v})
			}
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %q", rec.Code, tc.wantStatus, rec.Body.String())
			}
			if !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Errorf("body %q does not contain %q", rec.Body.String(), tc.wantBody)
			}
			if rec.Code == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if strings.HasPrefix(tc.path, "/api/") && rec.Code >= 400 {
				errorOf(t, rec)
			}
			for _, reason := range []string{"not_loopback", "missing_token", "wrong_token", "cookie_unsafe_method"} {
				want := 0.0
				if reason == tc.wantReason {
					want = 1
				}
				got := counterValue(t, e.reg, "onair_api_auth_failures_total", "reason", reason)
				if got != want {
					t.Errorf("onair_api_auth_failures_total{reason=%q} = %v, want %v", reason, got, want)
				}
			}
		})
	}
}

// sessionCookie logs in to the dashboard with ?token= and returns the
// cookie value the server set.
func sessionCookie(t *testing.T, h http.Handler) string {
	t.Helper()
	req := httptest.NewRequest("GET", "/?token="+testToken, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == "onair_session" {
			return c.Value
		}
	}
	t.Fatalf("no session cookie: %d %v", rec.Code, rec.Header())
	return ""
}

// counterValue reads one labelled counter from a registry (0 if absent).
func counterValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestDashboardLogin(t *testing.T) {
	e := newAPIEnv(t, testToken)
	req := httptest.NewRequest("GET", "/channels/demo?player=dash&token="+testToken+"&ll=1", nil)
	req.RemoteAddr = "203.0.113.7:5000"
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login status %d, want 303", rec.Code)
	}
	loc := rec.Header().Get("Location")
	if loc != "/channels/demo?ll=1&player=dash" {
		t.Errorf("Location = %q: want the same page without the token", loc)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %v", cookies)
	}
	c := cookies[0]
	if c.Name != "onair_session" || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/", c)
	}
	if c.Value == testToken || strings.Contains(c.Value, testToken) {
		t.Error("cookie holds the token itself")
	}
	if c.Secure {
		t.Error("Secure cookie on plain http would never be sent back")
	}

	// The cookie now opens the page and the read-only API.
	for _, path := range []string{"/channels/demo", "/api/v1/channels"} {
		req := httptest.NewRequest("GET", path, nil)
		req.RemoteAddr = "203.0.113.7:5000"
		req.AddCookie(c)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Errorf("GET %s with cookie: %d", path, rec.Code)
		}
	}

	// Over TLS the cookie is Secure.
	req = httptest.NewRequest("GET", "https://onair.test/?token="+testToken, nil)
	rec = httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if cs := rec.Result().Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Errorf("TLS login cookies %v: want Secure", cs)
	}
}

// TestDashboardLoginRedirectStaysLocal: a crafted path must not turn the
// post-login redirect into an off-site one.
func TestDashboardLoginRedirectStaysLocal(t *testing.T) {
	e := newAPIEnv(t, testToken)
	for _, target := range []string{"//evil.example/?token=" + testToken, "/\\evil.example/?token=" + testToken,
		"/..//evil.example?token=" + testToken} {
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path, req.URL.RawQuery, _ = strings.Cut(target, "?")
		req.URL.RawQuery = "token=" + testToken
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		loc := rec.Header().Get("Location")
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") ||
			strings.HasPrefix(loc, "/\\") {
			t.Errorf("path %q: status %d Location %q", req.URL.Path, rec.Code, loc)
		}
		t.Logf("path %q -> Location %q", req.URL.Path, loc)
	}
}
