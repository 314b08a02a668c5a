package edge

import (
	"net/http"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/geo"
	"onair/internal/signing"
)

// labelDenied is the cache label of a request refused for its token.
const labelDenied = "denied"

// AccessConfig makes the edge admit only viewers with a signed token
// (internal/signing) on the paths it protects.
type AccessConfig struct {
	// Verifier checks the token in the onair_token URL parameter or
	// cookie. Its key set may be replaced while the edge runs.
	Verifier *signing.Verifier
	// Protected reports whether a request path (escaped) needs a token;
	// nil protects every path.
	Protected func(path string) bool
	// GeoRule, if set, returns the country restriction of a request path
	// (ok false: none); Country places the client, found with
	// TrustedProxies' X-Forwarded-For (internal/clientip).
	GeoRule        func(path string) (geo.Rule, bool)
	Country        func(netip.Addr) (iso string, ok bool)
	TrustedProxies []netip.Prefix
	// Session, if set, is asked about every accepted token that names a
	// viewer session; false refuses the request (reason "revoked"). It
	// runs on every protected request: keep it to a map lookup.
	Session func(r *http.Request, c *signing.Claims) bool
}

// accessMetrics counts refusals by reason (signing.Reason).
type accessMetrics struct {
	denied *prometheus.CounterVec
}

func newAccessMetrics() accessMetrics {
	return accessMetrics{denied: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "onair_edge_access_denied_total",
		Help: "Viewer requests refused (403), by reason: a missing or invalid signed token (missing, malformed, unknown_key, bad_signature, expired, not_yet_valid, wrong_ip, wrong_resource), a revoked viewer session (revoked) or the channel's country rule (geo_*).",
	}, []string{"reason"})}
}

// admit checks r's token for the edge (see check), counting refusals.
func (e *Edge) admit(w http.ResponseWriter, r *http.Request, path string) bool {
	if e.cfg.Access == nil {
		return true
	}
	ok, reason := e.cfg.Access.check(w, r, path)
	if !ok {
		e.metrics.denied.WithLabelValues(reason).Inc()
		e.log.Debug("access denied", "path", path, "reason", reason)
	}
	return ok
}

// check admits r when its path is not protected or its token is valid. A
// token accepted from the URL is also set as a cookie, so the playlists'
// relative URIs (which carry no token) are admitted too. A refusal is
// answered with 403 here; reason is its signing.Reason.
func (a *AccessConfig) check(w http.ResponseWriter, r *http.Request, path string) (ok bool, reason string) {
	if a.GeoRule != nil {
		if rule, ok := a.GeoRule(path); ok && rule.Restricted() {
			var iso string
			var known bool
			if a.Country != nil {
				iso, known = a.Country(geo.ClientAddr(r, a.TrustedProxies))
			}
			if ok, why := rule.Permits(iso, known); !ok {
				writeError(w, http.StatusForbidden)
				return false, "geo_" + why
			}
		}
	}
	if a.Verifier == nil || (a.Protected != nil && !a.Protected(path)) {
		return true, ""
	}
	claims, err := a.Verifier.Verify(r)
	if err != nil {
		writeError(w, http.StatusForbidden)
		return false, signing.Reason(err)
	}
	if a.Session != nil && claims.Session != "" && !a.Session(r, &claims) {
		writeError(w, http.StatusForbidden)
		return false, "revoked"
	}
	if claims.Source == signing.SourceQuery {
		http.SetCookie(w, claims.Cookie(signing.CookieOptions{Insecure: r.TLS == nil}))
	}
	return true, ""
}

// Gate puts a's check in front of next, for playback served without an
// edge; denied (if not nil) hears each refusal's reason.
func (a *AccessConfig) Gate(next http.Handler, denied func(reason string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions {
			if ok, reason := a.check(w, r, r.URL.EscapedPath()); !ok {
				if denied != nil {
					denied(reason)
				}
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
