package signing

import (
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// testKey returns a deterministic key pair numbered n.
func testKey(n byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = n
	}
	return ed25519.NewKeyFromSeed(seed)
}

// testSigner returns a signer for testKey(n) under kid.
func testSigner(t testing.TB, kid string, n byte) *Signer {
	t.Helper()
	s, err := NewSigner(kid, testKey(n))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testKeySet returns a key set of the given signers' public keys.
func testKeySet(t testing.TB, signers ...*Signer) *KeySet {
	t.Helper()
	m := make(map[string]ed25519.PublicKey)
	for _, s := range signers {
		m[s.Kid()] = s.PublicKey()
	}
	ks, err := NewKeySet(m)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// testVerifier returns a verifier on the fixed clock.
func testVerifier(t testing.TB, ks *KeySet, leeway time.Duration, proxies ...string) *Verifier {
	t.Helper()
	cfg := VerifierConfig{Keys: ks, Now: func() time.Time { return testNow }, Leeway: leeway}
	for _, p := range proxies {
		cfg.TrustedProxies = append(cfg.TrustedProxies, netip.MustParsePrefix(p))
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// newsPolicy is a policy for /live/news/* valid for an hour.
func newsPolicy() Policy {
	return Policy{Resource: "/live/news/*", Expires: testNow.Add(time.Hour), Channel: "news"}
}

// mustSign signs p or fails the test.
func mustSign(t testing.TB, s *Signer, p Policy) string {
	t.Helper()
	tok, err := s.Sign(p)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// request builds a GET for target (path and query, sent as is) from
// remote, with the given X-Forwarded-For lines and token cookies.
func request(target, remote string, xff []string, cookies ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://edge.test"+target, nil)
	r.RemoteAddr = remote
	for _, x := range xff {
		r.Header.Add("X-Forwarded-For", x)
	}
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: CookieName, Value: c})
	}
	return r
}
