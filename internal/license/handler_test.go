package license

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// handlerCase is one request through the handler and what the viewer
// must get.
type handlerCase struct {
	name    string
	method  string // default POST
	path    string // default /license/news/clearkey
	auth    string // Authorization header; "" none
	body    string
	session error // what the SessionCheck returns
	keysErr error // what every key lookup returns
	badKey  bool  // the key store returns a 15-byte key
	status  int
	reason  string           // refusal reason; "" for 200
	want    map[[16]byte]int // Clear Key: kid -> want key (index 0 any)
}

func handlerCases(t testing.TB) []handlerCase {
	k1 := testIssuer(t, "k1", 1, 0)
	k2 := testIssuer(t, "k2", 2, 0)
	news := mustIssue(t, k1, "acme", "news", "s1")
	sports := mustIssue(t, k1, "acme", "sports", "s2")
	parts := strings.Split(mustIssue(t, k2, "acme", "sports", "s1"), ".")

	// The sports token's payload with the channel swapped to news: the
	// signature no longer matches.
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(`"sports"`), []byte(`"news"`), 1)) + "." + parts[2]
	// A flipped signature byte.
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[10] ^= 1
	flipped := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.Replace(payload, []byte(`"sports"`), []byte(`"news"`), 1)) + "." + base64.RawURLEncoding.EncodeToString(sig)

	// alg none, with a known kid and good claims.
	claimsJSON, _ := json.Marshal(goodClaims())
	none := b64([]byte(`{"alg":"none","kid":"k1","typ":"JWT"}`)) + "." + b64(claimsJSON) + "."
	// HS256 keyed with k1's public key bytes (the algorithm confusion
	// attack: a verifier that took the "alg" header at its word would
	// check an HMAC with a key anyone knows).
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, goodClaims())
	hs.Header["kid"] = "k1"
	hsTok, err := hs.SignedString([]byte(k1.PublicKey()))
	if err != nil {
		t.Fatal(err)
	}

	expired := mustIssue(t, testIssuer(t, "k1", 1, -10*time.Minute), "acme", "news", "s1")
	// Within the 5 s leeway: exp was 4 s ago.
	justExpired := mustIssue(t, testIssuer(t, "k1", 1, -DefaultTTL-4*time.Second), "acme", "news", "s1")
	notYet := mustIssue(t, testIssuer(t, "k1", 1, time.Minute), "acme", "news", "s1")
	unknownKid := mustIssue(t, testIssuer(t, "k3", 3, 0), "acme", "news", "s1")
	wrongKey := mustIssue(t, testIssuer(t, "k1", 3, 0), "acme", "news", "s1")
	big := `{"kids":["` + strings.Repeat("A", 9<<10) + `"]}`
	tooMany := make([][16]byte, DefaultMaxKids+1)
	for i := range tooMany {
		tooMany[i][0] = byte(i)
	}

	ok := http.StatusOK
	return []handlerCase{
		{name: "valid token gets both keys", auth: bearer(news), body: clearKeyBody(kidNewsV, kidNewsA), status: ok,
			want: map[[16]byte]int{kidNewsV: 1, kidNewsA: 1}},
		{name: "second signing key", auth: bearer(mustIssue(t, k2, "acme", "news", "s9")), body: clearKeyBody(kidNewsV), status: ok,
			want: map[[16]byte]int{kidNewsV: 1}},
		{name: "token in query", path: "/license/news/clearkey?token=" + news, body: clearKeyBody(kidNewsA), status: ok,
			want: map[[16]byte]int{kidNewsA: 1}},
		{name: "header wins over query", path: "/license/news/clearkey?token=garbage", auth: bearer(news), body: clearKeyBody(kidNewsA), status: ok,
			want: map[[16]byte]int{kidNewsA: 1}},
		{name: "lowercase bearer scheme", auth: "bearer " + news, body: clearKeyBody(kidNewsA), status: ok,
			want: map[[16]byte]int{kidNewsA: 1}},
		{name: "within leeway", auth: bearer(justExpired), body: clearKeyBody(kidNewsA), status: ok,
			want: map[[16]byte]int{kidNewsA: 1}},
		{name: "duplicate kid answered once", auth: bearer(news), body: clearKeyBody(kidNewsV, kidNewsV), status: ok,
			want: map[[16]byte]int{kidNewsV: 1}},
		{name: "unknown kid left out", auth: bearer(news), body: clearKeyBody(kidUnknown, kidNewsA), status: ok,
			want: map[[16]byte]int{kidNewsA: 1}},
		{name: "session check passes", auth: bearer(news), body: clearKeyBody(kidNewsV), session: nil, status: ok,
			want: map[[16]byte]int{kidNewsV: 1}},
		{name: "aes128 key", method: "GET", path: "/license/news/aes128/0F0E0D0C0B0A09080706050403020100?token=" + news, status: ok},

		{name: "missing token", body: clearKeyBody(kidNewsV), status: 401, reason: "no_token"},
		{name: "empty query token", path: "/license/news/clearkey?token=", body: clearKeyBody(kidNewsV), status: 401, reason: "no_token"},
		{name: "basic auth", auth: "Basic dXNlcjpwYXNz", body: clearKeyBody(kidNewsV), status: 401, reason: "bad_token"},
		{name: "two query tokens", path: "/license/news/clearkey?token=" + news + "&token=" + news, body: clearKeyBody(kidNewsV), status: 401, reason: "bad_token"},
		{name: "garbage token", auth: bearer("not.a.jwt"), body: clearKeyBody(kidNewsV), status: 401, reason: "bad_token"},
		{name: "oversized token", auth: bearer(strings.Repeat("a", MaxTokenSize+1)), body: clearKeyBody(kidNewsV), status: 401, reason: "bad_token"},
		{name: "expired", auth: bearer(expired), body: clearKeyBody(kidNewsV), status: 401, reason: "expired"},
		{name: "not yet valid", auth: bearer(notYet), body: clearKeyBody(kidNewsV), status: 401, reason: "not_yet_valid"},
		{name: "tampered claims", auth: bearer(tampered), body: clearKeyBody(kidNewsV), status: 401, reason: "bad_token"},
		{name: "flipped signature", auth: bearer(flipped), body: clearKeyBody(kidNewsV), status: 401, reason: "bad_token"},
		{name: "signed by another key under a known kid", auth: bearer(wrongKey), body: clearKeyBody(kidNewsV), status: 401, reason: "bad_token"},
		{name: "unknown signing kid", auth: bearer(unknownKid), body: clearKeyBody(kidNewsV), status: 401, reason: "unknown_kid"},
		{name: "alg none", auth: bearer(none), body: clearKeyBody(kidNewsV), status: 401, reason: "bad_token"},
		{name: "HS256 keyed with the public key", auth: bearer(hsTok), body: clearKeyBody(kidNewsV), status: 401, reason: "bad_token"},
		{name: "other channel's token", auth: bearer(sports), body: clearKeyBody(kidNewsV), status: 403, reason: "wrong_channel"},
		{name: "other channel's token for its own kid", auth: bearer(sports), body: clearKeyBody(kidSports), status: 403, reason: "wrong_channel"},
		{name: "aes128 with other channel's token", method: "GET", path: "/license/news/aes128/00112233445566778899aabbccddeeff", auth: bearer(sports), status: 403, reason: "wrong_channel"},
		{name: "revoked session", auth: bearer(news), body: clearKeyBody(kidNewsV), session: fmt.Errorf("session s1: %w", ErrRevoked), status: 403, reason: "revoked"},
		{name: "session store down", auth: bearer(news), body: clearKeyBody(kidNewsV), session: errors.New("store unreachable"), status: 503, reason: "unavailable"},
		{name: "malformed JSON", auth: bearer(news), body: `{"kids":[`, status: 400, reason: "bad_request"},
		{name: "not an object", auth: bearer(news), body: `["kids"]`, status: 400, reason: "bad_request"},
		{name: "no kids", auth: bearer(news), body: `{"kids":[],"type":"temporary"}`, status: 400, reason: "bad_request"},
		{name: "padded kid", auth: bearer(news), body: `{"kids":["` + b64(kidNewsV[:]) + `=="]}`, status: 400, reason: "bad_request"},
		{name: "short kid", auth: bearer(news), body: `{"kids":["AAAA"]}`, status: 400, reason: "bad_request"},
		{name: "persistent license", auth: bearer(news), body: `{"kids":["` + b64(kidNewsV[:]) + `"],"type":"persistent-license"}`, status: 400, reason: "bad_request"},
		{name: "too many kids", auth: bearer(news), body: clearKeyBody(tooMany...), status: 400, reason: "bad_request"},
		{name: "too big body", auth: bearer(news), body: big, status: 413, reason: "too_large"},
		{name: "unknown content kid", auth: bearer(news), body: clearKeyBody(kidUnknown), status: 404, reason: "unknown_key"},
		{name: "other channel's kid", auth: bearer(news), body: clearKeyBody(kidSports), status: 404, reason: "unknown_key"},
		{name: "aes128 unknown kid", method: "GET", path: "/license/news/aes128/" + fmt.Sprintf("%x", kidUnknown), auth: bearer(news), status: 404, reason: "unknown_key"},
		{name: "key store down", auth: bearer(news), body: clearKeyBody(kidNewsV), keysErr: errors.New("kms timeout"), status: 503, reason: "unavailable"},
		{name: "key of the wrong size", auth: bearer(news), body: clearKeyBody(kidNewsV), badKey: true, status: 500, reason: "error"},
		{name: "GET clearkey", method: "GET", auth: bearer(news), status: 405, reason: "method"},
		{name: "POST aes128", method: "POST", path: "/license/news/aes128/00112233445566778899aabbccddeeff", auth: bearer(news), status: 405, reason: "method"},
		{name: "PUT clearkey", method: "PUT", auth: bearer(news), body: clearKeyBody(kidNewsV), status: 405, reason: "method"},
		{name: "unknown path", path: "/license/news/widevine", auth: bearer(news), status: 404, reason: "not_found"},
		{name: "bad channel name", path: "/license/News/clearkey", auth: bearer(news), status: 404, reason: "not_found"},
		{name: "escaped slash", path: "/license/news%2Fx/clearkey", auth: bearer(news), status: 404, reason: "not_found"},
	}
}

func TestHandler(t *testing.T) {
	for _, tc := range handlerCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			cfg := HandlerConfig{}
			var sessionCalls []string
			cfg.SessionCheck = func(_ context.Context, tenant, channel, session string) error {
				sessionCalls = append(sessionCalls, tenant+"/"+channel+"/"+session)
				return tc.session
			}
			f := newFixture(t, cfg)
			f.keys.err = tc.keysErr
			if tc.badKey {
				f.keys.keys["news"][kidNewsV] = []byte("fifteen bytes!!")
			}
			method, path := tc.method, tc.path
			if method == "" {
				method = "POST"
			}
			if path == "" {
				path = "/license/news/clearkey"
			}
			kind := "clearkey"
			switch {
			case strings.Contains(path, "/aes128/"):
				kind = "aes128"
			case tc.reason == "not_found":
				kind = "other"
			}
			w := f.do(method, path, tc.auth, strings.NewReader(tc.body))
			body := w.Body.Bytes()

			if w.Code != tc.status {
				t.Fatalf("status %d, want %d; body %q; log %s", w.Code, tc.status, body, f.logs)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin %q, want *", got)
			}
			if tc.reason != "" {
				if want := `{"error":"` + tc.reason + `"}` + "\n"; string(body) != want {
					t.Errorf("body %q, want %q", body, want)
				}
				if ct := w.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
				noKeyMaterial(t, f.keys, body)
				if got := f.refused(tc.reason); got != 1 {
					t.Errorf("refused{%s} = %v, want 1", tc.reason, got)
				}
				if got := f.requests(kind, tc.reason); got != 1 {
					t.Errorf("requests{%s,%s} = %v, want 1", kind, tc.reason, got)
				}
				if got := f.requests(kind, "ok"); got != 0 {
					t.Errorf("requests{%s,ok} = %v, want 0", kind, got)
				}
				checkRefusalLog(t, f.logs.String(), tc.reason, tc.auth, path)
				switch {
				case tc.status == 401 && w.Header().Get("WWW-Authenticate") == "":
					t.Error("401 without WWW-Authenticate")
				case tc.status == 405 && w.Header().Get("Allow") == "":
					t.Error("405 without Allow")
				}
				// Nothing after the token check may run for a bad token.
				if tc.status == 401 || tc.reason == "method" || tc.reason == "not_found" {
					if len(f.keys.calls) > 0 || len(sessionCalls) > 0 {
						t.Errorf("refused request reached the key store %v or session check %v", f.keys.calls, sessionCalls)
					}
				}
				if tc.reason == "wrong_channel" && len(f.keys.calls) > 0 {
					t.Errorf("other channel's token reached the key store: %v", f.keys.calls)
				}
				return
			}
			if got := f.requests(kind, "ok"); got != 1 {
				t.Errorf("requests{%s,ok} = %v, want 1", kind, got)
			}
			for _, r := range allReasons() {
				if got := f.refused(r); got != 0 {
					t.Errorf("refused{%s} = %v on success", r, got)
				}
			}
			if len(sessionCalls) != 1 || !strings.HasPrefix(sessionCalls[0], "acme/news/") {
				t.Errorf("session check calls %v, want one for acme/news", sessionCalls)
			}
			for _, c := range f.keys.calls {
				if !strings.HasPrefix(c, "news/") {
					t.Errorf("key lookup %s outside the token's channel", c)
				}
			}
			if kind == "aes128" {
				if ct := w.Header().Get("Content-Type"); ct != "application/octet-stream" {
					t.Errorf("Content-Type %q", ct)
				}
				if !bytes.Equal(body, f.keys.keys["news"][kidNewsA]) {
					t.Errorf("aes128 body %q, want the news audio key", body)
				}
				return
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			got := decodeLicense(t, body)
			if len(got) != len(tc.want) {
				t.Errorf("license has %d keys, want %d: %s", len(got), len(tc.want), body)
			}
			for kid := range tc.want {
				if !bytes.Equal(got[kid], f.keys.keys["news"][kid]) {
					t.Errorf("key %x = %q, want %q", kid, got[kid], f.keys.keys["news"][kid])
				}
			}
		})
	}
}

// checkRefusalLog checks the refusal's log line: reason, remote address,
// and never the token.
func checkRefusalLog(t *testing.T, logs, reason, auth, path string) {
	t.Helper()
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(logs)), &line); err != nil {
		t.Fatalf("want one JSON log line, got %q: %v", logs, err)
	}
	if line["msg"] != "license refused" || line["reason"] != reason || line["remote"] != "198.51.100.7:40000" {
		t.Errorf("log line %v", line)
	}
	if reason != "not_found" && line["channel"] == nil {
		t.Errorf("log line without channel: %v", line)
	}
	tok := strings.TrimPrefix(auth, "Bearer ")
	if _, q, ok := strings.Cut(path, "token="); ok && q != "" {
		tok = q
	}
	if len(tok) > 16 && strings.Contains(logs, tok[len(tok)-16:]) {
		t.Errorf("log holds the token: %s", logs)
	}
}

func TestHandlerPartialLicenseRequest(t *testing.T) {
	// The kid order of the license follows the request; a kid asked
	// twice is looked up once.
	f := newFixture(t, HandlerConfig{})
	tok := mustIssue(t, testIssuer(t, "k1", 1, 0), "acme", "news", "s1")
	w := f.do("POST", "/license/news/clearkey", bearer(tok), strings.NewReader(clearKeyBody(kidNewsA, kidUnknown, kidNewsA, kidNewsV)))
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	want := `{"keys":[{"kty":"oct","kid":"` + b64(kidNewsA[:]) + `","k":"` + b64([]byte("news-audio-key!!")) +
		`"},{"kty":"oct","kid":"` + b64(kidNewsV[:]) + `","k":"` + b64([]byte("news-video-key!!")) + `"}],"type":"temporary"}`
	if got := w.Body.String(); got != want {
		t.Errorf("license\n got %s\nwant %s", got, want)
	}
	if len(f.keys.calls) != 3 {
		t.Errorf("lookups %v, want 3", f.keys.calls)
	}
}

func TestHandlerCORS(t *testing.T) {
	tok := mustIssue(t, testIssuer(t, "k1", 1, 0), "acme", "news", "s1")
	cases := []struct {
		name      string
		allow     []string
		method    string
		path      string
		origin    string
		status    int
		acao      string // want Access-Control-Allow-Origin
		acam      string // want Access-Control-Allow-Methods
		allowHdrs bool   // want Access-Control-Allow-Headers
	}{
		{"preflight any origin", nil, "OPTIONS", "/license/news/clearkey", "https://player.example", 204, "https://player.example", "POST, OPTIONS", true},
		{"preflight aes128", nil, "OPTIONS", "/license/news/aes128/00112233445566778899aabbccddeeff", "https://player.example", 204, "https://player.example", "GET, OPTIONS", true},
		{"preflight allowed origin", []string{"https://a.example", "https://player.example"}, "OPTIONS", "/license/news/clearkey", "https://player.example", 204, "https://player.example", "POST, OPTIONS", true},
		{"preflight other origin", []string{"https://a.example"}, "OPTIONS", "/license/news/clearkey", "https://evil.example", 204, "", "", false},
		{"preflight unknown path", nil, "OPTIONS", "/license/news/nope", "https://player.example", 404, "https://player.example", "", false},
		{"no origin", nil, "POST", "/license/news/clearkey", "", 200, "*", "", false},
		{"request allowed origin", []string{"https://player.example"}, "POST", "/license/news/clearkey", "https://player.example", 200, "https://player.example", "", false},
		{"request other origin", []string{"https://player.example"}, "POST", "/license/news/clearkey", "https://evil.example", 200, "", "", false},
		{"refusal carries CORS", []string{"https://player.example"}, "DELETE", "/license/news/clearkey", "https://player.example", 405, "https://player.example", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, HandlerConfig{AllowOrigins: tc.allow})
			r, _ := http.NewRequest(tc.method, tc.path, strings.NewReader(clearKeyBody(kidNewsV)))
			r.RemoteAddr = "127.0.0.1:1"
			r.Header.Set("Origin", tc.origin)
			if tc.method == "OPTIONS" {
				r.Header.Set("Access-Control-Request-Method", "POST")
				r.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
			} else {
				r.Header.Set("Authorization", bearer(tok))
			}
			w := httptest.NewRecorder()
			f.h.ServeHTTP(w, r)
			h := w.Header()
			if w.Code != tc.status || h.Get("Access-Control-Allow-Origin") != tc.acao || h.Get("Access-Control-Allow-Methods") != tc.acam ||
				(h.Get("Access-Control-Allow-Headers") == "Authorization, Content-Type") != tc.allowHdrs {
				t.Errorf("status %d, headers %v", w.Code, h)
			}
			// Credentials (dash.js sends them) are allowed exactly when an
			// origin is: cookies grant nothing here.
			if got, want := h.Get("Access-Control-Allow-Credentials") != "", tc.acao != "" && tc.acao != "*"; got != want {
				t.Errorf("Access-Control-Allow-Credentials %q with Allow-Origin %q", h.Get("Access-Control-Allow-Credentials"), tc.acao)
			}
			if tc.allow != nil && !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
				t.Errorf("allow-list answer without Vary: Origin: %v", h)
			}
			if tc.method == "OPTIONS" && tc.status == 204 && (f.requests("clearkey", "ok") != 0 || w.Body.Len() != 0) {
				t.Error("preflight counted or with a body")
			}
		})
	}
}

func TestNewHandlerRejectsBadConfig(t *testing.T) {
	v := testVerifier(t, nil)
	for _, cfg := range []HandlerConfig{
		{Prefix: "license/"},
		{Prefix: "/license"},
		{AllowOrigins: []string{"https://player.example/"}},
		{AllowOrigins: []string{"player.example"}},
		{AllowOrigins: []string{"ftp://player.example"}},
		{MaxBody: 10},
		{MaxKids: -1},
	} {
		if _, err := NewHandler(cfg, v, testKeys(), nil, nil); err == nil {
			t.Errorf("NewHandler(%+v) accepted", cfg)
		}
	}
	if _, err := NewHandler(HandlerConfig{}, nil, testKeys(), nil, nil); err == nil {
		t.Error("NewHandler without verifier accepted")
	}
}

func TestHandlerCustomPrefixAndMux(t *testing.T) {
	f := newFixture(t, HandlerConfig{Prefix: "/drm/v1/"})
	mux := http.NewServeMux()
	mux.Handle("/drm/v1/", f.h)
	tok := mustIssue(t, testIssuer(t, "k2", 2, 0), "acme", "news", "s1")
	r, _ := http.NewRequest("GET", "/drm/v1/news/aes128/00112233445566778899aabbccddeeff", nil)
	r.Header.Set("Authorization", bearer(tok))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	if w.Code != 200 || w.Body.String() != "news-video-key!!" || w.Header().Get("Content-Length") != "16" {
		t.Fatalf("status %d body %q headers %v", w.Code, w.Body, w.Header())
	}
}

func TestHandlerLogsAreRateLimited(t *testing.T) {
	now := testNow
	f := newFixture(t, HandlerConfig{Now: func() time.Time { return now }})
	for range 5 {
		f.do("POST", "/license/news/clearkey", "", strings.NewReader("{}"))
	}
	f.do("POST", "/license/news/clearkey", "Basic x", nil) // another reason
	now = now.Add(11 * time.Second)
	f.do("POST", "/license/news/clearkey", "", nil)
	lines := strings.Split(strings.TrimSpace(f.logs.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d log lines, want 3:\n%s", len(lines), f.logs)
	}
	if !strings.Contains(lines[2], `"suppressed":4`) || !strings.Contains(lines[2], `"reason":"no_token"`) {
		t.Errorf("third line %s, want no_token with 4 suppressed", lines[2])
	}
	if got := f.refused("no_token"); got != 6 {
		t.Errorf("refused{no_token} = %v, want 6 (the limit is on logs only)", got)
	}
}

func TestHandlerLogsTrustedClient(t *testing.T) {
	f := newFixture(t, HandlerConfig{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}})
	r, _ := http.NewRequest("POST", "/license/news/clearkey", nil)
	r.RemoteAddr = "198.51.100.7:1"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	f.h.ServeHTTP(httptest.NewRecorder(), r)
	if !strings.Contains(f.logs.String(), `"client":"203.0.113.9"`) {
		t.Errorf("log %s without the client behind the proxy", f.logs)
	}
}

func TestHandlerChunkedBodyOverLimit(t *testing.T) {
	f := newFixture(t, HandlerConfig{MaxBody: 1024})
	tok := mustIssue(t, testIssuer(t, "k1", 1, 0), "acme", "news", "s1")
	r := httptest.NewRequest("POST", "/license/news/clearkey", io.MultiReader(strings.NewReader(`{"kids":["`), strings.NewReader(strings.Repeat("A", 2000))))
	r.ContentLength = -1 // chunked: the limit is found while reading
	r.Header.Set("Authorization", bearer(tok))
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if w.Code != 413 || f.refused("too_large") != 1 {
		t.Fatalf("status %d, refused{too_large} %v", w.Code, f.refused("too_large"))
	}
	noKeyMaterial(t, f.keys, w.Body.Bytes())
}
