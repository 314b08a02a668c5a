package license

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onair/internal/signing"
)

func TestIssue(t *testing.T) {
	i := testIssuer(t, "k1", 1, 0)
	v := testVerifier(t, testKeySet(t, i))
	tok, exp, err := i.Issue("acme", "news", "sess-1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(testNow.Add(DefaultTTL)) {
		t.Errorf("expiry %v, want %v", exp, testNow.Add(DefaultTTL))
	}
	parts := strings.Split(tok, ".")
	hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if string(hdr) != `{"alg":"EdDSA","kid":"k1","typ":"JWT"}` {
		t.Errorf("header %s", hdr)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"tenant": "acme", "channel": "news", "session": "sess-1", "iss": "onair", "sub": "sess-1",
		"aud": []any{"onair-license"}, "exp": float64(testNow.Add(DefaultTTL).Unix()),
		"nbf": float64(testNow.Unix()), "iat": float64(testNow.Unix())}
	for k, w := range want {
		if got, _ := json.Marshal(m[k]); string(got) != mustJSON(w) {
			t.Errorf("claim %s = %s, want %s", k, got, mustJSON(w))
		}
	}
	if jti, _ := m["jti"].(string); len(jti) != 22 {
		t.Errorf("jti %q, want 16 random bytes", jti)
	}
	c, err := v.Verify(tok)
	if err != nil || c.Session != "sess-1" || c.Tenant != "acme" || c.Channel != "news" {
		t.Fatalf("verify: %+v, %v", c, err)
	}
	tok2, _, _ := i.Issue("acme", "news", "sess-1", 0)
	if tok2 == tok {
		t.Error("two tokens for one session are equal: jti is not random")
	}
}

func TestIssueTTLAndArguments(t *testing.T) {
	i, err := NewIssuer(IssuerConfig{Kid: "k1", Key: testKey(1), TTL: time.Minute, MaxTTL: 10 * time.Minute, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name                     string
		tenant, channel, session string
		ttl                      time.Duration
		wantExp                  time.Duration // 0: error
	}{
		{"default", "acme", "news", "s", 0, time.Minute},
		{"explicit", "acme", "news", "s", 10 * time.Minute, 10 * time.Minute},
		{"fraction dropped", "acme", "news", "s", 90*time.Second + 500*time.Millisecond, 90 * time.Second},
		{"over max", "acme", "news", "s", 10*time.Minute + time.Second, 0},
		{"negative", "acme", "news", "s", -time.Minute, 0},
		{"under a second", "acme", "news", "s", time.Millisecond, 0},
		{"no tenant", "", "news", "s", 0, 0},
		{"no session", "acme", "news", "", 0, 0},
		{"long session", "acme", "news", strings.Repeat("s", 129), 0, 0},
		{"bad channel", "acme", "News", "s", 0, 0},
		{"no channel", "acme", "", "s", 0, 0},
	}
	for _, tc := range cases {
		_, exp, err := i.Issue(tc.tenant, tc.channel, tc.session, tc.ttl)
		switch {
		case tc.wantExp == 0 && err == nil:
			t.Errorf("%s: issued", tc.name)
		case tc.wantExp != 0 && (err != nil || !exp.Equal(testNow.Add(tc.wantExp))):
			t.Errorf("%s: expiry %v, %v; want %v", tc.name, exp, err, testNow.Add(tc.wantExp))
		}
	}
}

func TestNewIssuerRejectsBadConfig(t *testing.T) {
	for _, cfg := range []IssuerConfig{
		{Kid: "k1"},
		{Kid: "", Key: testKey(1)},
		{Kid: "k.1", Key: testKey(1)},
		{Kid: "k1", Key: testKey(1)[:32]},
		{Kid: "k1", Key: testKey(1), TTL: 2 * time.Hour},
		{Kid: "k1", Key: testKey(1), TTL: time.Minute, MaxTTL: 30 * time.Second},
	} {
		if _, err := NewIssuer(cfg); err == nil {
			t.Errorf("NewIssuer(%+v) accepted", cfg)
		}
	}
}

// TestKeyFiles issues and verifies with keys in PEM files, loaded with
// internal/signing's loaders, as onair does.
func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	pubA, err := signing.GenerateKeyFiles(filepath.Join(dir, "a.key"), filepath.Join(dir, "a.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signing.GenerateKeyFiles(filepath.Join(dir, "b.key"), filepath.Join(dir, "b.pub")); err != nil {
		t.Fatal(err)
	}
	ks, err := LoadKeySet(map[string]string{"a": filepath.Join(dir, "a.pub"), "b": filepath.Join(dir, "b.pub")})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ks.Kids(), ","); got != "a,b" || ks.Len() != 2 {
		t.Errorf("kids %s", got)
	}
	priv, err := signing.LoadPrivateKey(filepath.Join(dir, "a.key"))
	if err != nil {
		t.Fatal(err)
	}
	i, err := NewIssuer(IssuerConfig{Kid: "a", Key: priv})
	if err != nil {
		t.Fatal(err)
	}
	if !i.PublicKey().Equal(pubA) {
		t.Error("issuer public key differs from the file's")
	}
	v, err := NewVerifier(VerifierConfig{Keys: ks})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(mustIssue(t, i, "acme", "news", "s1")); err != nil {
		t.Fatalf("verify with loaded keys: %v", err)
	}
	if _, err := LoadKeySet(map[string]string{"a": filepath.Join(dir, "a.key")}); err == nil {
		t.Error("a private key file loaded as a public key")
	}
	if _, err := LoadKeySet(map[string]string{"a.b": filepath.Join(dir, "a.pub")}); err == nil {
		t.Error("bad kid accepted")
	}
	if _, err := NewKeySet(map[string]ed25519.PublicKey{"a": pubA[:31]}); err == nil {
		t.Error("short public key accepted")
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
