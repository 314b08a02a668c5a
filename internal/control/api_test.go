package control_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"onair/internal/control"
)

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type apiEnv struct {
	api  *control.API
	h    http.Handler
	fake *fakeManager
	reg  *prometheus.Registry
	logs *syncBuffer
}

func newAPIEnv(t testing.TB, token string) *apiEnv {
	t.Helper()
	e := &apiEnv{fake: newFakeManager(), reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	api, err := control.New(control.Config{Token: token}, e.fake, log, e.reg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.api, e.h = api, api.Handler()
	return e
}

// do serves one request from a loopback client.
func (e *apiEnv) do(t *testing.T, method, path, contentType, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "127.0.0.1:40000"
	req.Host = "onair.test:8080"
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// errorOf decodes an {"error": ...} body, failing if it is not one.
func errorOf(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error Content-Type = %q, want application/json; body %q", ct, rec.Body.String())
	}
	var body struct {
		Error string `json:"error"`
	}
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Error == "" {
		t.Fatalf("error body %q: %v", rec.Body.String(), err)
	}
	return body.Error
}

func TestAPIEndpoints(t *testing.T) {
	const jsonCT = "application/json"
	big := `{"name":"big","pad":"` + strings.Repeat("x", 70<<10) + `"}`
	cases := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		wantStatus  int
		wantError   string // substring of {"error"}; "" for success
		check       func(t *testing.T, rec *httptest.ResponseRecorder, f *fakeManager)
	}{
		{name: "list", method: "GET", path: "/api/v1/channels", wantStatus: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeManager) {
				var list control.ChannelList
				mustDecode(t, rec, &list)
				if len(list.Channels) != 1 || list.Channels[0].Name != "demo" {
					t.Errorf("channels = %+v, want [demo]", list.Channels)
				}
				if got := list.Channels[0].Playback.HLS; got != "http://onair.test:8080/live/demo/master.m3u8" {
					t.Errorf("HLS URL %q does not use the request host", got)
				}
			}},
		{name: "create", method: "POST", path: "/api/v1/channels", contentType: jsonCT,
			body: `{"name":"news","low_latency":true}`, wantStatus: 201,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, f *fakeManager) {
				var ch control.Channel
				mustDecode(t, rec, &ch)
				if ch.Name != "news" || !ch.LowLatency || ch.State != control.StateIdle {
					t.Errorf("created %+v", ch)
				}
				if ch.Ingest.RTMPURL != "rtmp://onair.test:1935/live/key-news" || ch.Ingest.StreamKey != "key-news" {
					t.Errorf("ingest %+v", ch.Ingest)
				}
				if loc := rec.Header().Get("Location"); loc != "/api/v1/channels/news" {
					t.Errorf("Location = %q", loc)
				}
				if _, err := f.GetChannel(t.Context(), "news", ""); err != nil {
					t.Errorf("manager did not get the channel: %v", err)
				}
			}},
		{name: "create standard", method: "POST", path: "/api/v1/channels", contentType: jsonCT,
			body: `{"name":"std","pipelines":"standard","inputs":{"loss_after":"2s","slate":false}}`, wantStatus: 201},
		{name: "create bad mode", method: "POST", path: "/api/v1/channels", contentType: jsonCT,
			body: `{"name":"x","pipelines":"triple"}`, wantStatus: 400, wantError: `pipelines "triple": want single or standard`},
		{name: "create bad input duration", method: "POST", path: "/api/v1/channels", contentType: jsonCT,
			body: `{"name":"x","inputs":{"black_after":"soon"}}`, wantStatus: 400, wantError: `inputs.black_after: "soon" is not a duration`},
		{name: "patch", method: "PATCH", path: "/api/v1/channels/demo", contentType: jsonCT,
			body: `{"pipelines":"standard","inputs":{"clear_after":"5s"}}`, wantStatus: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeManager) {
				var ch control.Channel
				mustDecode(t, rec, &ch)
				if ch.Mode != "standard" || ch.InputSettings == nil || ch.InputSettings.ClearAfter != "5s" {
					t.Errorf("patched %+v", ch)
				}
			}},
		{name: "patch unknown field", method: "PATCH", path: "/api/v1/channels/demo", contentType: jsonCT,
			body: `{"name":"other"}`, wantStatus: 400, wantError: "name"},
		{name: "patch missing", method: "PATCH", path: "/api/v1/channels/nope", contentType: jsonCT,
			body: `{"pipelines":"single"}`, wantStatus: 404},
		{name: "promote", method: "POST", path: "/api/v1/channels/demo/pipelines/b", contentType: jsonCT,
			body: `{"action":"promote"}`, wantStatus: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeManager) {
				var ch control.Channel
				mustDecode(t, rec, &ch)
				if ch.ActivePipeline != "b" {
					t.Errorf("active %q after promote", ch.ActivePipeline)
				}
			}},
		{name: "pipeline unknown", method: "POST", path: "/api/v1/channels/demo/pipelines/c", contentType: jsonCT,
			body: `{"action":"promote"}`, wantStatus: 404, wantError: `no pipeline "c"`},
		{name: "pipeline bad action", method: "POST", path: "/api/v1/channels/demo/pipelines/a", contentType: jsonCT,
			body: `{"action":"explode"}`, wantStatus: 400, wantError: `action "explode"`},
		{name: "token", method: "POST", path: "/api/v1/channels/demo/tokens", contentType: jsonCT,
			body: `{"ttl":"30m","ip":"203.0.113.7"}`, wantStatus: 201,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeManager) {
				var tok control.Token
				mustDecode(t, rec, &tok)
				if tok.Token != "tok-demo-30m" || rec.Header().Get("Cache-Control") != "no-store" {
					t.Errorf("token %+v, Cache-Control %q", tok, rec.Header().Get("Cache-Control"))
				}
			}},
		{name: "token without body", method: "POST", path: "/api/v1/channels/demo/tokens", wantStatus: 201},
		{name: "token bad ttl", method: "POST", path: "/api/v1/channels/demo/tokens", contentType: jsonCT,
			body: `{"ttl":"-5m"}`, wantStatus: 400, wantError: `ttl "-5m"`},
		{name: "token unknown channel", method: "POST", path: "/api/v1/channels/nope/tokens", wantStatus: 404},
		{name: "token GET", method: "GET", path: "/api/v1/channels/demo/tokens", wantStatus: 405, check: wantAllow("POST")},
		{name: "create bad access", method: "POST", path: "/api/v1/channels", contentType: jsonCT,
			body: `{"name":"x","access":"secret"}`, wantStatus: 400, wantError: `access "secret": want public or signed`},
		{name: "pipeline GET", method: "GET", path: "/api/v1/channels/demo/pipelines/a", wantStatus: 405, check: wantAllow("POST")},
		{name: "create with charset", method: "POST", path: "/api/v1/channels",
			contentType: "application/json; charset=utf-8", body: `{"name":"n2"}`, wantStatus: 201},
		{name: "create exists", method: "POST", path: "/api/v1/channels", contentType: jsonCT,
			body: `{"name":"demo"}`, wantStatus: 409, wantError: `channel "demo" already exists`},
		{name: "create manager invalid", method: "POST", path: "/api/v1/channels", contentType: jsonCT,
			body: `{"name":"reserved"}`, wantStatus: 400, wantError: "reserved"},
		{name: "create bad name", method: "POST", path: "/api/v1/channels", contentType: jsonCT,
			body: `{"name":"Bad_Name"}`, wantStatus: 400, wantError: `invalid channel name "Bad_Name"`},
		{name: "create empty name", method: "POST", path: "/api/v1/channels", contentType: jsonCT,
			body: `{}`, wantStatus: 400, wantError: "invalid channel name"},
		{name: "create bad json", method: "POST", path: "/api/v1/channels", contentType: jsonCT,
			body: `{"name":`, wantStatus: 400, wantError: "truncated"},
		{name: "create syntax error", method: "POST", path: "/api/v1/channels", contentType: jsonCT,
			body: `{"name" "x"}`, wantStatus: 400, wantError: "malformed JSON"},
		{name: "create unknown field", method: "POST", path: "/api/v1/channels", contentType: jsonCT,
			body: `{"name":"x","colour":"red"}`, wantStatus: 400, wantError: `unknown field "colour"`},
		{name: "create wrong type", method: "POST", path: "/api/v1/channels", contentType: jsonCT,
			body: `{"name":7}`, wantStatus: 400, wantError: `field "name" must be string`},
		{name: "create not an object", method: "POST", path: "/api/v1/channels", contentType: jsonCT,
			body: `["x"]`, wantStatus: 400, wantError: "JSON object"},
		{name: "create empty body", method: "POST", path: "/api/v1/channels", contentType: jsonCT,
			body: ``, wantStatus: 400, wantError: "empty"},
		{name: "create two objects", method: "POST", path: "/api/v1/channels", contentType: jsonCT,
			body: `{"name":"a"}{"name":"b"}`, wantStatus: 400, wantError: "single JSON object"},
		{name: "create too large", method: "POST", path: "/api/v1/channels", contentType: jsonCT,
			body: big, wantStatus: 413, wantError: "larger than 65536 bytes"},
		{name: "create form", method: "POST", path: "/api/v1/channels",
			contentType: "application/x-www-form-urlencoded", body: "name=x", wantStatus: 415, wantError: "application/json"},
		{name: "create no content type", method: "POST", path: "/api/v1/channels",
			body: `{"name":"x"}`, wantStatus: 415, wantError: "application/json"},
		{name: "get", method: "GET", path: "/api/v1/channels/demo", wantStatus: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeManager) {
				var ch control.Channel
				mustDecode(t, rec, &ch)
				if ch.Name != "demo" || ch.Playback.Page != "http://onair.test:8080/channels/demo" {
					t.Errorf("got %+v", ch)
				}
			}},
		{name: "get missing", method: "GET", path: "/api/v1/channels/nope", wantStatus: 404, wantError: `channel "nope" not found`},
		{name: "get bad name", method: "GET", path: "/api/v1/channels/-x", wantStatus: 400, wantError: "invalid channel name"},
		{name: "get name too long", method: "GET", path: "/api/v1/channels/" + strings.Repeat("a", 64), wantStatus: 400, wantError: "invalid channel name"},
		{name: "head", method: "HEAD", path: "/api/v1/channels/demo", wantStatus: 200},
		{name: "stop", method: "POST", path: "/api/v1/channels/demo/stop", wantStatus: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeManager) {
				var ch control.Channel
				mustDecode(t, rec, &ch)
				if ch.Enabled || ch.State != control.StateStopped {
					t.Errorf("after stop: enabled=%v state=%q", ch.Enabled, ch.State)
				}
			}},
		{name: "start", method: "POST", path: "/api/v1/channels/demo/start", wantStatus: 200,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeManager) {
				var ch control.Channel
				mustDecode(t, rec, &ch)
				if !ch.Enabled || ch.State != control.StateIdle {
					t.Errorf("after start: enabled=%v state=%q", ch.Enabled, ch.State)
				}
			}},
		{name: "stop missing", method: "POST", path: "/api/v1/channels/nope/stop", wantStatus: 404, wantError: "not found"},
		{name: "start bad name", method: "POST", path: "/api/v1/channels/A/start", wantStatus: 400, wantError: "invalid channel name"},
		{name: "delete", method: "DELETE", path: "/api/v1/channels/demo", wantStatus: 204,
			check: func(t *testing.T, rec *httptest.ResponseRecorder, f *fakeManager) {
				if rec.Body.Len() != 0 {
					t.Errorf("204 with body %q", rec.Body.String())
				}
				if _, err := f.GetChannel(t.Context(), "demo", ""); !errors.Is(err, control.ErrNotFound) {
					t.Errorf("channel still there: %v", err)
				}
			}},
		{name: "delete missing", method: "DELETE", path: "/api/v1/channels/nope", wantStatus: 404, wantError: "not found"},
		{name: "put channels", method: "PUT", path: "/api/v1/channels", wantStatus: 405, wantError: "method PUT not allowed",
			check: wantAllow("GET, HEAD, POST")},
		{name: "put channel", method: "PUT", path: "/api/v1/channels/demo", wantStatus: 405, wantError: "not allowed",
			check: wantAllow("GET, HEAD, PATCH, DELETE")},
		{name: "get stop", method: "GET", path: "/api/v1/channels/demo/stop", wantStatus: 405, wantError: "not allowed",
			check: wantAllow("POST")},
		{name: "get start", method: "GET", path: "/api/v1/channels/demo/start", wantStatus: 405, wantError: "not allowed",
			check: wantAllow("POST")},
		{name: "unknown endpoint", method: "GET", path: "/api/v2/channels", wantStatus: 404, wantError: "no such API endpoint"},
		{name: "unknown sub-resource", method: "GET", path: "/api/v1/channels/demo/keys", wantStatus: 404, wantError: "no such API endpoint"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newAPIEnv(t, "")
			if _, err := e.fake.CreateChannel(t.Context(), control.ChannelSpec{Name: "demo"}, "http://x"); err != nil {
				t.Fatal(err)
			}
			rec := e.do(t, tc.method, tc.path, tc.contentType, tc.body)
			if rec.Code != tc.wantStatus {
				t.Fatalf("%s %s: status %d, want %d; body %q", tc.method, tc.path, rec.Code, tc.wantStatus, rec.Body.String())
			}
			if tc.wantError != "" {
				if msg := errorOf(t, rec); !strings.Contains(msg, tc.wantError) {
					t.Errorf("error %q does not contain %q", msg, tc.wantError)
				}
			}
			if tc.check != nil {
				tc.check(t, rec, e.fake)
			}
			if strings.Contains(e.logs.String(), "level=ERROR") {
				t.Errorf("client error logged as an error:\n%s", e.logs.String())
			}
		})
	}
}

func wantAllow(allow string) func(*testing.T, *httptest.ResponseRecorder, *fakeManager) {
	return func(t *testing.T, rec *httptest.ResponseRecorder, _ *fakeManager) {
		if got := rec.Header().Get("Allow"); got != allow {
			t.Errorf("Allow = %q, want %q", got, allow)
		}
	}
}

func mustDecode(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q", ct)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("decode %q: %v", rec.Body.String(), err)
	}
}

func TestAPIEmptyListIsArray(t *testing.T) {
	e := newAPIEnv(t, "")
	rec := e.do(t, "GET", "/api/v1/channels", "", "")
	if got := strings.TrimSpace(rec.Body.String()); got != `{"channels":[]}` {
		t.Errorf("empty list body = %s", got)
	}
}

// TestAPIInternalError checks that a Manager failure is a generic 500 for
// the client and one log record with the details for the operator.
func TestAPIInternalError(t *testing.T) {
	e := newAPIEnv(t, "")
	e.fake.fail = errors.New("kv get channels.demo: nats: connection closed")
	for _, tc := range []struct{ method, path, ct, body string }{
		{"GET", "/api/v1/channels", "", ""},
		{"GET", "/api/v1/channels/demo", "", ""},
		{"POST", "/api/v1/channels", "application/json", `{"name":"x"}`},
		{"DELETE", "/api/v1/channels/demo", "", ""},
		{"POST", "/api/v1/channels/demo/stop", "", ""},
	} {
		before := strings.Count(e.logs.String(), "level=ERROR")
		rec := e.do(t, tc.method, tc.path, tc.ct, tc.body)
		if rec.Code != 500 {
			t.Fatalf("%s %s: status %d, want 500", tc.method, tc.path, rec.Code)
		}
		if msg := errorOf(t, rec); msg != "internal server error" || strings.Contains(rec.Body.String(), "nats") {
			t.Errorf("%s %s: client saw %q", tc.method, tc.path, rec.Body.String())
		}
		logs := e.logs.String()
		if n := strings.Count(logs, "level=ERROR") - before; n != 1 {
			t.Errorf("%s %s: %d error records, want 1:\n%s", tc.method, tc.path, n, logs)
		}
		if !strings.Contains(logs, "nats: connection closed") {
			t.Errorf("log lacks the cause:\n%s", logs)
		}
	}
}

func TestAPIRequestMetrics(t *testing.T) {
	e := newAPIEnv(t, "")
	e.do(t, "GET", "/api/v1/channels", "", "")
	e.do(t, "GET", "/api/v1/channels", "", "")
	e.do(t, "GET", "/api/v1/channels/nope", "", "")
	e.do(t, "PUT", "/api/v1/channels", "", "")
	want := `
# HELP onair_api_requests_total Control API and dashboard requests by route pattern and status code.
# TYPE onair_api_requests_total counter
onair_api_requests_total{code="200",route="GET /api/v1/channels"} 2
onair_api_requests_total{code="404",route="GET /api/v1/channels/{name}"} 1
onair_api_requests_total{code="405",route="/api/v1/channels"} 1
`
	if err := testutil.GatherAndCompare(e.reg, strings.NewReader(want), "onair_api_requests_total"); err != nil {
		t.Error(err)
	}
}

func TestNewRejects(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := control.New(control.Config{}, nil, nil, reg); err == nil {
		t.Error("nil manager accepted")
	}
	if _, err := control.New(control.Config{Token: "has space"}, newFakeManager(), nil, reg); err == nil {
		t.Error("token with a space accepted")
	}
	if _, err := control.New(control.Config{}, newFakeManager(), nil, reg); err != nil {
		t.Fatalf("first API on registry: %v", err)
	}
	if _, err := control.New(control.Config{}, newFakeManager(), nil, reg); err == nil {
		t.Error("second API on the same registry accepted (duplicate metrics)")
	}
	if _, err := control.New(control.Config{}, newFakeManager(), nil, nil); err != nil {
		t.Errorf("nil logger and registry: %v", err)
	}
}

func TestValidChannelName(t *testing.T) {
	for _, tc := range validNameCases {
		if got := control.ValidChannelName(tc.name); got != tc.valid {
			t.Errorf("ValidChannelName(%q) = %v, want %v", tc.name, got, tc.valid)
		}
	}
}

var validNameCases = []struct {
	name  string
	valid bool
}{
	{"a", true}, {"0", true}, {"demo", true}, {"news-1", true}, {"a-", true},
	{strings.Repeat("a", 63), true}, {strings.Repeat("a", 64), false},
	{"", false}, {"-a", false}, {"A", false}, {"a_b", false}, {"a.b", false},
	{"a/b", false}, {"a b", false}, {"é", false}, {"a\x00", false},
}

func FuzzValidChannelName(f *testing.F) {
	for _, tc := range validNameCases {
		f.Add(tc.name)
	}
	re := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := control.ValidChannelName(name), re.MatchString(name); got != want {
			t.Errorf("ValidChannelName(%q) = %v, regexp says %v", name, got, want)
		}
	})
}

// FuzzCreateChannel feeds arbitrary bodies to POST /api/v1/channels: the
// answer is always a known status with a JSON body, never a 5xx.
func FuzzCreateChannel(f *testing.F) {
	for _, s := range []string{`{"name":"a"}`, `{"name":"a","low_latency":true}`, `{`, `{"name":1}`,
		`{"x":1}`, `null`, `[]`, `{"name":"a"} {}`, `""`, "\xff"} {
		f.Add(s)
	}
	e := newAPIEnv(f, "")
	f.Fuzz(func(t *testing.T, body string) {
		rec := e.do(t, "POST", "/api/v1/channels", "application/json", body)
		switch rec.Code {
		case 201:
			var ch control.Channel
			mustDecode(t, rec, &ch)
			if !control.ValidChannelName(ch.Name) {
				t.Errorf("created invalid name %q", ch.Name)
			}
		case 400, 409, 413:
			errorOf(t, rec)
		default:
			t.Errorf("body %q: status %d %q", body, rec.Code, rec.Body.String())
		}
		_, _ = io.Copy(io.Discard, rec.Body)
	})
}
