package license

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

// testKey returns a deterministic Ed25519 key for seed byte n.
func testKey(n byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{n}, ed25519.SeedSize))
}

// testIssuer returns an issuer for key n with key ID kid whose clock is
// testNow + skew.
func testIssuer(tb testing.TB, kid string, n byte, skew time.Duration) *Issuer {
	tb.Helper()
	i, err := NewIssuer(IssuerConfig{Kid: kid, Key: testKey(n), Now: func() time.Time { return testNow.Add(skew) }})
	if err != nil {
		tb.Fatal(err)
	}
	return i
}

// testKeySet returns the key set of the issuers' public keys.
func testKeySet(tb testing.TB, issuers ...*Issuer) *KeySet {
	tb.Helper()
	m := map[string]ed25519.PublicKey{}
	for _, i := range issuers {
		m[i.Kid()] = i.PublicKey()
	}
	ks, err := NewKeySet(m)
	if err != nil {
		tb.Fatal(err)
	}
	return ks
}

// testVerifier returns a verifier at testNow with ks.
func testVerifier(tb testing.TB, ks *KeySet) *Verifier {
	tb.Helper()
	v, err := NewVerifier(VerifierConfig{Keys: ks, Now: fixedNow})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// mustIssue issues a token or fails.
func mustIssue(tb testing.TB, i *Issuer, tenant, channel, session string) string {
	tb.Helper()
	tok, _, err := i.Issue(tenant, channel, session, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// signClaims signs arbitrary claims with key n, alg EdDSA, header kid.
func signClaims(tb testing.TB, kid string, n byte, c jwt.Claims) string {
	tb.Helper()
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	if kid != "" {
		t.Header["kid"] = kid
	}
	s, err := t.SignedString(testKey(n))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// goodClaims returns the claims Issue would make at testNow for news.
func goodClaims() Claims {
	return Claims{
		Tenant: "acme", Channel: "news", Session: "s1",
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: TokenIssuer, Subject: "s1", Audience: jwt.ClaimStrings{TokenAudience},
			ExpiresAt: jwt.NewNumericDate(testNow.Add(5 * time.Minute)),
			NotBefore: jwt.NewNumericDate(testNow), IssuedAt: jwt.NewNumericDate(testNow),
			ID: "jti-1",
		},
	}
}

// kidOf returns a key ID from its 32 hex digits.
func kidOf(s string) [16]byte {
	var k [16]byte
	if _, err := hex.Decode(k[:], []byte(s)); err != nil || len(s) != 32 {
		panic("bad test kid " + s)
	}
	return k
}

// b64 is base64url without padding.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// Test content keys: news has two, sports one.
var (
	kidNewsV   = kidOf("00112233445566778899aabbccddeeff")
	kidNewsA   = kidOf("0f0e0d0c0b0a09080706050403020100")
	kidSports  = kidOf("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	kidUnknown = kidOf("deadbeefdeadbeefdeadbeefdeadbeef")
)

// memKeys is an in-memory Keys: channel -> kid -> key. err, if set, is
// returned for every lookup.
type memKeys struct {
	keys map[string]map[[16]byte][]byte
	err  error
	// quiet: do not record calls (benchmarks)
	quiet bool

	mu    sync.Mutex
	calls []string // "channel/kid" of every lookup
}

func testKeys() *memKeys {
	return &memKeys{keys: map[string]map[[16]byte][]byte{
		"news": {
			kidNewsV: []byte("news-video-key!!"),
			kidNewsA: []byte("news-audio-key!!"),
		},
		"sports": {kidSports: []byte("sports-key-0001!")},
	}}
}

func (m *memKeys) Key(_ context.Context, channel string, kid [16]byte) ([]byte, error) {
	if !m.quiet {
		m.mu.Lock()
		m.calls = append(m.calls, fmt.Sprintf("%s/%x", channel, kid))
		m.mu.Unlock()
	}
	if m.err != nil {
		return nil, m.err
	}
	k, ok := m.keys[channel][kid]
	if !ok {
		return nil, fmt.Errorf("channel %s key %x: %w", channel, kid, ErrUnknownKey)
	}
	return k, nil
}

// allKeyBytes returns every content key of m in every encoding a leak
// could take: raw, base64url, standard base64, hex.
func (m *memKeys) allKeyBytes() [][]byte {
	var out [][]byte
	for _, ks := range m.keys {
		for _, k := range ks {
			out = append(out, k, []byte(b64(k)), []byte(base64.StdEncoding.EncodeToString(k)), []byte(hex.EncodeToString(k)))
		}
	}
	return out
}

// fixture is a handler with its own registry, keys and log.
type fixture struct {
	h    *Handler
	keys *memKeys
	reg  *prometheus.Registry
	logs *bytes.Buffer
}

// newFixture builds a handler at testNow trusting issuers k1 and k2.
func newFixture(tb testing.TB, cfg HandlerConfig) *fixture {
	tb.Helper()
	return newFixtureWith(tb, cfg, testVerifier(tb, testKeySet(tb, testIssuer(tb, "k1", 1, 0), testIssuer(tb, "k2", 2, 0))))
}

// newFixtureWith builds a handler with verifier v.
func newFixtureWith(tb testing.TB, cfg HandlerConfig, v *Verifier) *fixture {
	tb.Helper()
	f := &fixture{keys: testKeys(), reg: prometheus.NewRegistry(), logs: &bytes.Buffer{}}
	log := slog.New(slog.NewJSONHandler(&lockedWriter{w: f.logs}, nil))
	h, err := NewHandler(cfg, v, f.keys, log, f.reg)
	if err != nil {
		tb.Fatal(err)
	}
	f.h = h
	return f
}

// do runs one request through the handler.
func (f *fixture) do(method, target, auth string, body io.Reader) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "198.51.100.7:40000"
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// refused returns onair_license_refused_total{reason}.
func (f *fixture) refused(reason string) float64 {
	return testutil.ToFloat64(f.h.metrics.refused.WithLabelValues(reason))
}

// requests returns onair_license_requests_total{kind,result}.
func (f *fixture) requests(kind, result string) float64 {
	return testutil.ToFloat64(f.h.metrics.requests.WithLabelValues(kind, result))
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// clearKeyBody returns a Clear Key request for kids.
func clearKeyBody(kids ...[16]byte) string {
	s := make([]string, len(kids))
	for i, k := range kids {
		s[i] = b64(k[:])
	}
	b, _ := json.Marshal(clearKeyRequest{Kids: s, Type: "temporary"})
	return string(b)
}

// decodeLicense parses a Clear Key license into kid -> key.
func decodeLicense(tb testing.TB, body []byte) map[[16]byte][]byte {
	tb.Helper()
	var l clearKeyLicense
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		tb.Fatalf("license %q: %v", body, err)
	}
	if l.Type != "temporary" {
		tb.Fatalf("license type %q", l.Type)
	}
	out := map[[16]byte][]byte{}
	for _, k := range l.Keys {
		kid, ok := decodeKid(k.Kid)
		key, err := base64.RawURLEncoding.Strict().DecodeString(k.K)
		if !ok || err != nil || k.Kty != "oct" {
			tb.Fatalf("license key %+v", k)
		}
		out[kid] = key
	}
	return out
}

// bearer is an Authorization header value.
func bearer(tok string) string { return "Bearer " + tok }

// noKeyMaterial fails if body holds any content key of keys.
func noKeyMaterial(tb testing.TB, keys *memKeys, body []byte) {
	tb.Helper()
	for _, k := range keys.allKeyBytes() {
		if bytes.Contains(body, k) {
			tb.Fatalf("body %q holds key material %q", body, k)
		}
	}
	if strings.Contains(string(body), `"k"`) || strings.Contains(string(body), `"keys"`) {
		tb.Fatalf("body %q looks like a license", body)
	}
}
