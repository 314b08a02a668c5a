package speke

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"onair/internal/cpix"
)

const (
	testToken      = "s3cret-token"
	testLicenseURL = "https://onair.example/license/{content_id}/clearkey"
	testKeyURL     = "https://onair.example/license/{content_id}/aes128/{kid_hex}"
)

// Test key IDs.
var (
	kidVideo = [16]byte{0x87, 0x3f, 0x37, 0x40, 0x25, 0x08, 0x4a, 0x2d, 0x94, 0xbc, 0x9b, 0x0f, 0x86, 0x64, 0x92, 0x51}
	kidAudio = [16]byte{0x0c, 0x54, 0xf2, 0xb0, 0xb4, 0x33, 0x45, 0xa4, 0xae, 0x73, 0x66, 0x44, 0x38, 0xbb, 0x0b, 0x4e}
)

// memKeys is a KeySource deriving keys from content ID and KID, as a
// real store would return the same key every time. Safe for concurrent
// use.
type memKeys struct {
	withIV bool  // return an IV with each key
	err    error // returned instead of keys
	keyLen int   // 0: 16

	mu    sync.Mutex
	calls int
}

func (m *memKeys) ContentKey(_ context.Context, contentID string, kid [16]byte, scheme string) ([]byte, []byte, error) {
	m.mu.Lock()
	m.calls++
	m.mu.Unlock()
	if m.err != nil {
		return nil, nil, m.err
	}
	key, iv := testKey(contentID, kid)
	if m.keyLen != 0 {
		key = make([]byte, m.keyLen)
	}
	if !m.withIV {
		iv = nil
	}
	return key, iv, nil
}

func (m *memKeys) callCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// testKey is the key and IV memKeys gives.
func testKey(contentID string, kid [16]byte) (key, iv []byte) {
	h := sha256.Sum256(append([]byte(contentID+"/"), kid[:]...))
	return h[:16], h[16:]
}

// testProvider is a Provider with its registry.
type testProvider struct {
	*Provider
	reg  *prometheus.Registry
	keys *memKeys
}

func newTestProvider(t testing.TB, cfg ProviderConfig, keys *memKeys) testProvider {
	t.Helper()
	if cfg.LicenseURL == "" {
		cfg.LicenseURL = testLicenseURL
	}
	if cfg.Auth == nil {
		cfg.Auth = BearerAuth(testToken)
	}
	if keys == nil {
		keys = &memKeys{}
	}
	reg := prometheus.NewRegistry()
	p, err := NewProvider(cfg, ProviderDeps{Keys: keys, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	return testProvider{Provider: p, reg: reg, keys: keys}
}

// count returns onair_speke_provider_requests_total{result}.
func (p testProvider) count(result string) float64 {
	return testutil.ToFloat64(p.metrics.requests.WithLabelValues(result))
}

// serve starts an httptest server (127.0.0.1:0) with h.
func serve(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// recorder keeps the bodies a handler saw and sent.
type recorder struct {
	next http.Handler

	mu        sync.Mutex
	requests  []string
	responses []string
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rw := httptest.NewRecorder()
	rc.next.ServeHTTP(rw, r)
	rc.mu.Lock()
	rc.requests = append(rc.requests, string(body))
	rc.responses = append(rc.responses, rw.Body.String())
	rc.mu.Unlock()
	for k, v := range rw.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rw.Code)
	_, _ = w.Write(rw.Body.Bytes())
}

func testClient(url string) *Client {
	return &Client{URL: url, Header: http.Header{"Authorization": {"Bearer " + testToken}}}
}

func mustParse(t testing.TB, s string) *cpix.Document {
	t.Helper()
	d, err := cpix.Parse([]byte(s))
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	return d
}

func wantErr(t testing.TB, err, sentinel error, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v containing %q", sentinel, substr)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Fatalf("error %v does not wrap %v", err, sentinel)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Fatalf("error %q does not contain %q", err, substr)
	}
}

// testutilKeys returns onair_speke_provider_keys_total.
func testutilKeys(p testProvider) float64 {
	return testutil.ToFloat64(p.metrics.keys)
}
