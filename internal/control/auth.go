package control

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/authz"
	"onair/internal/tenant"
)

// sessionCookie is the dashboard session cookie's name.
const sessionCookie = "onair_session"

// Reasons counted in onair_api_auth_failures_total.
const (
	reasonNotLoopback  = "not_loopback"  // no token configured, remote client
	reasonMissingToken = "missing_token" // token configured, none presented
	reasonWrongToken   = "wrong_token"   // a presented token or cookie did not match
	reasonCookieUnsafe = "cookie_unsafe_method"
	reasonUnknownKey   = "unknown_api_key" // a tenant API key that is unknown or does not match
	reasonRevokedKey   = "revoked_api_key" // a revoked key, or its tenant deleted
)

// KeyAuthenticator checks tenant API keys (internal/tenant.Store).
type KeyAuthenticator interface {
	Authenticate(ctx context.Context, presented string) (tenant.APIKey, error)
}

// auth decides who may use the API and the dashboard.
//
// Without a token only loopback peers (by RemoteAddr: 127.0.0.0/8, ::1) are
// served, so that a default install is not open to the network by accident.
// Proxies are not trusted: behind a reverse proxy on the same machine every
// client looks local, so configure a token there.
//
// With a token, API requests carry it as a bearer token (RFC 6750 section
// 2.1). The dashboard takes ?token= once, answers with a redirect that drops
// it from the address bar, and sets an HttpOnly, SameSite=Strict cookie
// holding HMAC-SHA256(token, label) rather than the token itself. The cookie
// also authorizes the dashboard's own API calls, for safe methods only:
// changes need the bearer token, so a cookie alone can never change state.
//
// Tenant API keys (onair_<keyid>_<secret>, internal/tenant) are bearer
// tokens too, accepted from any address: each request then acts as the
// key's tenant and role, and the policies (internal/authz) decide what it
// may do. The operator token and loopback clients act as operators.
type auth struct {
	keys     KeyAuthenticator // nil: no tenant keys
	token    string
	tokenSum [32]byte // sha256(token): compared in constant time, length-blind
	cookie   string   // expected session cookie value
	failures *prometheus.CounterVec
}

func newAuth(token string, keys KeyAuthenticator, failures *prometheus.CounterVec) *auth {
	a := &auth{token: token, keys: keys, failures: failures}
	if token != "" {
		a.tokenSum = sha256.Sum256([]byte(token))
		mac := hmac.New(sha256.New, []byte(token))
		mac.Write([]byte("onair dashboard session v1"))
		a.cookie = hex.EncodeToString(mac.Sum(nil))
	}
	for _, r := range []string{reasonNotLoopback, reasonMissingToken, reasonWrongToken, reasonCookieUnsafe, reasonUnknownKey, reasonRevokedKey} {
		failures.WithLabelValues(r) // expose zeros
	}
	return a
}

// guard wraps next with the access rules above.
func (a *auth) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api := r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/")
		if tok, ok := bearerToken(r.Header.Get("Authorization")); ok && api && a.keys != nil {
			if _, err := tenant.KeyID(tok); err == nil && !a.isOperatorToken(tok) {
				a.guardKey(next, w, r, tok)
				return
			}
		}
		if a.token == "" {
			if !isLoopback(r.RemoteAddr) {
				a.refuse(w, api, http.StatusForbidden, reasonNotLoopback,
					"remote access is disabled because no operator token is configured: "+
						"set an operator token on the server, then send it as \"Authorization: Bearer <token>\""+
						dashboardHint(api))
				return
			}
			next.ServeHTTP(w, withPrincipal(r, loopbackUser))
			return
		}
		if api {
			a.guardAPI(next, w, r)
		} else {
			a.guardDashboard(next, w, r)
		}
	})
}

func (a *auth) guardAPI(next http.Handler, w http.ResponseWriter, r *http.Request) {
	if tok, ok := bearerToken(r.Header.Get("Authorization")); ok {
		if !a.validToken(tok) {
			a.refuse(w, true, http.StatusUnauthorized, reasonWrongToken, "wrong operator token")
			return
		}
		next.ServeHTTP(w, withPrincipal(r, operatorToken))
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		switch {
		case !a.validCookie(c.Value):
			a.refuse(w, true, http.StatusUnauthorized, reasonWrongToken,
				"dashboard session expired: open the dashboard with ?token=<operator token> again")
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			a.refuse(w, true, http.StatusUnauthorized, reasonCookieUnsafe,
				"changes need \"Authorization: Bearer <operator token>\"")
		default:
			next.ServeHTTP(w, withPrincipal(r, operatorToken))
		}
		return
	}
	a.refuse(w, true, http.StatusUnauthorized, reasonMissingToken,
		"missing operator token: send \"Authorization: Bearer <token>\"")
}

func (a *auth) guardDashboard(next http.Handler, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Has("token") {
		if !a.validToken(q.Get("token")) {
			a.refuse(w, false, http.StatusUnauthorized, reasonWrongToken, "wrong operator token")
			return
		}
		http.SetCookie(w, &http.Cookie{
			Name:     sessionCookie,
			Value:    a.cookie,
			Path:     "/",
			HttpOnly: true,
			Secure:   r.TLS != nil,
			SameSite: http.SameSiteStrictMode,
		})
		q.Del("token")
		http.Redirect(w, r, localURL(r.URL.Path, q), http.StatusSeeOther)
		return
	}
	if tok, ok := bearerToken(r.Header.Get("Authorization")); ok && a.validToken(tok) {
		next.ServeHTTP(w, withPrincipal(r, operatorToken))
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		if !a.validCookie(c.Value) {
			a.refuse(w, false, http.StatusUnauthorized, reasonWrongToken,
				"dashboard session expired: open this page with ?token=<operator token>")
			return
		}
		next.ServeHTTP(w, withPrincipal(r, operatorToken))
		return
	}
	a.refuse(w, false, http.StatusUnauthorized, reasonMissingToken,
		"the dashboard needs the operator token: open this page with ?token=<operator token>")
}

// guardKey serves an API request presenting a tenant API key as that key.
func (a *auth) guardKey(next http.Handler, w http.ResponseWriter, r *http.Request, tok string) {
	k, err := a.keys.Authenticate(r.Context(), tok)
	switch {
	case errors.Is(err, tenant.ErrRevoked):
		a.refuse(w, true, http.StatusUnauthorized, reasonRevokedKey, "api key revoked")
		return
	case errors.Is(err, tenant.ErrUnknownKey), errors.Is(err, tenant.ErrMalformed):
		a.refuse(w, true, http.StatusUnauthorized, reasonUnknownKey, "unknown api key")
		return
	case err != nil:
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "api keys cannot be checked right now; retry"})
		return
	}
	next.ServeHTTP(w, withPrincipal(r, authz.Principal{ID: k.ID, Tenant: k.Tenant, Role: string(k.Role)}))
}

// isOperatorToken reports whether tok is the configured operator token.
func (a *auth) isOperatorToken(tok string) bool { return a.token != "" && a.validToken(tok) }

// refuse counts and writes an authorization failure: JSON for the API,
// plain text for dashboard pages.
func (a *auth) refuse(w http.ResponseWriter, api bool, status int, reason, msg string) {
	a.failures.WithLabelValues(reason).Inc()
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="onair"`)
	}
	if api {
		writeJSON(w, status, errorBody{Error: msg})
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("onair: " + msg + "\n"))
}

func dashboardHint(api bool) string {
	if api {
		return ""
	}
	// The dashboard can't send a header: tell the operator the page form.
	return "; for the dashboard open this page with ?token=<token>"
}

func (a *auth) validToken(tok string) bool {
	sum := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(sum[:], a.tokenSum[:]) == 1
}

func (a *auth) validCookie(v string) bool {
	return subtle.ConstantTimeCompare([]byte(v), []byte(a.cookie)) == 1
}

// bearerToken extracts the token of an "Authorization: Bearer <token>"
// header value (RFC 6750 section 2.1; the scheme is case-insensitive, RFC
// 9110 section 11.1). ok is false for any other scheme or an empty token.
func bearerToken(header string) (token string, ok bool) {
	const scheme = "bearer "
	if len(header) <= len(scheme) || !strings.EqualFold(header[:len(scheme)], scheme) {
		return "", false
	}
	token = strings.TrimLeft(header[len(scheme):], " ")
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

// isLoopback reports whether a RemoteAddr ("ip:port") is a loopback address.
func isLoopback(remoteAddr string) bool {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	return ap.Addr().Unmap().IsLoopback()
}

// localURL rebuilds a same-site URL from a request path and query. The path
// is cleaned so that it can never become "//host" (an off-site redirect).
func localURL(p string, q url.Values) string {
	p = path.Clean("/" + p)
	u := url.URL{Path: p, RawQuery: q.Encode()}
	return u.String()
}
