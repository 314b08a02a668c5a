package app

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

// OriginSecretHeader carries the shared secret between the edge tier and
// the origin (http.origin_secret, edge.origin_secret).
const OriginSecretHeader = "X-Onair-Origin-Secret"

// originSecretGate lets through only requests that carry secret in
// OriginSecretHeader, so that viewers cannot bypass the edge tier (its
// cache, its access checks) and reach the origin. Others get a 403 and
// are counted in refused.
func originSecretGate(secret string, next http.Handler, refused prometheus.Counter) http.Handler {
	want := sha256.Sum256([]byte(secret))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := sha256.Sum256([]byte(r.Header.Get(OriginSecretHeader)))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			refused.Inc()
			h := w.Header()
			h.Set("Content-Type", "text/plain; charset=utf-8")
			h.Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte("onair: this origin serves its edge tier only\n"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
