package edge

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"onair/internal/geo"
	"onair/internal/signing"
)

// discardWriter is a ResponseWriter that drops the body.
type discardWriter struct {
	header http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }

func benchmarkHit(b *testing.B, path string, size int) { benchmarkHitWith(b, path, size, false) }

// BenchmarkCacheHitSegmentAccess and BenchmarkCacheHitPlaylistAccess are
// the hits above with a signed cookie verified and a country rule checked
// against a real (small) database on every request.
func BenchmarkCacheHitSegmentAccess(b *testing.B) {
	benchmarkHitWith(b, "/live/c/720p/1.m4s", 1<<20, true)
}

func BenchmarkCacheHitPlaylistAccess(b *testing.B) {
	benchmarkHitWith(b, "/live/c/720p/index.m3u8", 1<<10, true)
}

// benchAccess is an AccessConfig that protects everything, with a token
// cookie for path's channel and a database placing 192.0.2.0/24 (the
// test requests' peer) in DE, the only allowed country.
func benchAccess(b *testing.B) (*AccessConfig, *http.Cookie) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := signing.NewSigner("k1", priv)
	keys, _ := signing.NewKeySet(map[string]ed25519.PublicKey{"k1": pub})
	v, _ := signing.NewVerifier(signing.VerifierConfig{Keys: keys})
	tok, err := signer.Sign(signing.Policy{Resource: "/live/c/*", Expires: time.Now().Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-Country", RecordSize: 24, IncludeReservedNetworks: true,
		Description: map[string]string{"en": "bench"}})
	if err != nil {
		b.Fatal(err)
	}
	_, n, _ := net.ParseCIDR("192.0.2.0/24")
	if err := w.Insert(n, mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String("DE")}}); err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		b.Fatal(err)
	}
	db, err := geo.OpenBytes(buf.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	rule, _ := geo.Rule{Allow: []string{"DE"}}.Normalize()
	return &AccessConfig{Verifier: v, GeoRule: func(string) (geo.Rule, bool) { return rule, true }, Country: db.Country},
		&http.Cookie{Name: signing.CookieName, Value: tok}
}

func benchmarkHitWith(b *testing.B, path string, size int, access bool) {
	body := bytes.Repeat([]byte{'x'}, size)
	up := newUpstream(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(body)
	})
	cfg := Config{Upstreams: []string{up.URL}}
	var cookie *http.Cookie
	if access {
		cfg.Access, cookie = benchAccess(b)
	}
	e, err := New(cfg, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	h := e.Handler()
	req := httptest.NewRequest(http.MethodGet, path+"?token=abc", nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	h.ServeHTTP(httptest.NewRecorder(), req)
	w := &discardWriter{header: make(http.Header, 8)}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		clear(w.header)
		w.n = 0
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK || w.n != size || w.header.Get("X-Cache") != "HIT" {
			b.Fatalf("status %d, %d bytes, X-Cache %q", w.status, w.n, w.header.Get("X-Cache"))
		}
	}
}

func BenchmarkCacheHitPlaylist(b *testing.B) { benchmarkHit(b, "/live/c/720p/index.m3u8", 1<<10) }

func BenchmarkCacheHitSegment(b *testing.B) { benchmarkHit(b, "/live/c/720p/1.m4s", 1<<20) }
