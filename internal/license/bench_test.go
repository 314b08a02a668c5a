package license

import (
	"bytes"
	"io"
	"net/http/httptest"
	"testing"
)

// BenchmarkHandler runs one whole license request through the handler:
// token from the header, Ed25519 verification, claims checks, session
// check, body parse, key lookups, the JSON license (or the 16 key
// bytes). ns/op is the CPU cost of one request on one core.
func BenchmarkHandler(b *testing.B) {
	tok := mustIssue(b, testIssuer(b, "k1", 1, 0), "acme", "news", "s1")
	cases := []struct {
		name, method, path, auth string
		body                     []byte
		status                   int
	}{
		{"clearkey-1kid", "POST", "/license/news/clearkey", bearer(tok), []byte(clearKeyBody(kidNewsV)), 200},
		{"clearkey-2kids", "POST", "/license/news/clearkey", bearer(tok), []byte(clearKeyBody(kidNewsV, kidNewsA)), 200},
		{"aes128-query-token", "GET", "/license/news/aes128/00112233445566778899aabbccddeeff?token=" + tok, "", nil, 200},
		{"refused-bad-signature", "POST", "/license/news/clearkey", bearer(tok[:len(tok)-4] + "AAAA"), []byte(clearKeyBody(kidNewsV)), 401},
		{"refused-no-token", "POST", "/license/news/clearkey", "", []byte(clearKeyBody(kidNewsV)), 401},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			f := newFixture(b, HandlerConfig{})
			f.keys.quiet = true
			r := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			body := bytes.NewReader(tc.body)
			b.ReportAllocs()
			for b.Loop() {
				body.Reset(tc.body)
				r.Body = io.NopCloser(body)
				r.ContentLength = int64(len(tc.body))
				w := httptest.NewRecorder()
				f.h.ServeHTTP(w, r)
				if w.Code != tc.status {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkVerify is the token check alone.
func BenchmarkVerify(b *testing.B) {
	i := testIssuer(b, "k1", 1, 0)
	v := testVerifier(b, testKeySet(b, i))
	tok := mustIssue(b, i, "acme", "news", "s1")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssue is the cost of signing one viewer token.
func BenchmarkIssue(b *testing.B) {
	i := testIssuer(b, "k1", 1, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := i.Issue("acme", "news", "s1", 0); err != nil {
			b.Fatal(err)
		}
	}
}
