package edge

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"onair/internal/signing"
)

// TestSignedAccess: on protected paths only a valid signed token (URL or
// the cookie the edge sets for it) reaches the cache or the upstream;
// every refusal is a 403 counted by reason, and the token never reaches
// the cache key or the upstream.
func TestSignedAccess(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := signing.NewSigner("k1", priv)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := signing.NewKeySet(map[string]ed25519.PublicKey{"k1": pub})
	verifier, _ := signing.NewVerifier(signing.VerifierConfig{Keys: keys})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			t.Errorf("upstream got query %q", r.URL.RawQuery)
		}
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Write([]byte("object " + r.URL.Path))
	})
	e := startEdge(t, Config{Upstreams: []string{up.URL}, Access: &AccessConfig{
		Verifier:  verifier,
		Protected: func(path string) bool { return strings.HasPrefix(path, "/live/paid/") },
	}}, nil)
	token := func(resource string, expires time.Time) string {
		tok, err := signer.Sign(signing.Policy{Resource: resource, Expires: expires})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	valid := token("/live/paid/*", time.Now().Add(time.Hour))
	for _, tc := range []struct {
		name, target string
		want         int
		reason       string
	}{
		{"public channel", "/live/free/a/1.m4s", 200, ""},
		{"no token", "/live/paid/a/1.m4s", 403, "missing"},
		{"valid", "/live/paid/a/1.m4s?onair_token=" + valid, 200, ""},
		{"expired", "/live/paid/a/1.m4s?onair_token=" + token("/live/paid/*", time.Now().Add(-time.Minute)), 403, "expired"},
		{"other channel's token", "/live/paid/a/1.m4s?onair_token=" + token("/live/other/*", time.Now().Add(time.Hour)), 403, "wrong_resource"},
		{"tampered", "/live/paid/a/1.m4s?onair_token=" + strings.Replace(valid, valid[5:6], string(rune(valid[5]^1)), 1), 403, ""},
		{"garbage", "/live/paid/a/1.m4s?onair_token=abc", 403, "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := get(t, e.url+tc.target)
			if res.status != tc.want {
				t.Fatalf("%s: %d, want %d", tc.target, res.status, tc.want)
			}
			if tc.want == 403 && (strings.Contains(res.body, "object") || res.header.Get("Set-Cookie") != "") {
				t.Errorf("refusal leaked content or a cookie: %q %q", res.body, res.header.Get("Set-Cookie"))
			}
			if tc.reason != "" && tc.want == 403 {
				if n := counterValue(e.metrics.denied.WithLabelValues(tc.reason)); n < 1 {
					t.Errorf("denied{reason=%s} = %v", tc.reason, n)
				}
			}
		})
	}
	// The URL token leaves a cookie; the playlist's relative URIs carry no
	// token and are admitted by it.
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	if res := do(t, client, http.MethodGet, e.url+"/live/paid/master.m3u8?onair_token="+valid, nil); res.status != 200 {
		t.Fatalf("with token: %d", res.status)
	}
	if res := do(t, client, http.MethodGet, e.url+"/live/paid/a/2.m4s", nil); res.status != 200 {
		t.Fatalf("with the cookie: %d", res.status)
	}
	if res := do(t, client, http.MethodGet, e.url+"/live/free/x", nil); res.status != 200 {
		t.Fatalf("public path with a cookie: %d", res.status)
	}
	// One cache entry for the object however many tokens ask for it.
	if n := up.count("/live/paid/a/1.m4s"); n != 1 {
		t.Errorf("upstream asked %d times for the object", n)
	}
}
