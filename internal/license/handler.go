package license

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/clientip"
)

// Handler defaults.
const (
	DefaultPrefix  = "/license/"
	DefaultMaxBody = 8 << 10 // bytes of a Clear Key request body
	DefaultMaxKids = 16      // key IDs in one Clear Key request
	// TokenParam is the query parameter that may carry the token when the
	// player cannot set an Authorization header.
	TokenParam = "token"
	// defaultLogEvery is HandlerConfig.LogEvery's default.
	defaultLogEvery = 10 * time.Second
)

// HandlerConfig configures a Handler.
type HandlerConfig struct {
	// Prefix is the path the handler is mounted at, with a trailing '/'
	// (mux.Handle(Prefix, h)). Default DefaultPrefix, "/license/".
	Prefix string
	// AllowOrigins are the page origins ("https://player.example") whose
	// scripts may read license responses (CORS), or "*" for any. Default
	// (empty): "*", which is safe because the token is never a cookie.
	AllowOrigins []string
	// MaxBody is the largest Clear Key request body in bytes; larger is
	// 413. Default DefaultMaxBody (8 KiB).
	MaxBody int64
	// MaxKids is the most distinct key IDs one Clear Key request may ask
	// for; more is 400. Default DefaultMaxKids (16).
	MaxKids int
	// SessionCheck, if set, is asked after the token verified whether its
	// session may still receive keys (revocation). Default: none.
	SessionCheck SessionCheck
	// TrustedProxies are the prefixes of proxies whose X-Forwarded-For is
	// believed for the client address in refusal logs
	// (internal/clientip). Default none: the TCP peer.
	TrustedProxies []netip.Prefix
	// LogEvery is the shortest interval between two refusal log lines of
	// one reason; the lines held back are counted in the next one
	// ("suppressed"). Default 10 s; negative logs every refusal.
	LogEvery time.Duration
	// Now is the clock of LogEvery. Default time.Now.
	Now func() time.Time
}

// Handler is the license endpoint (see the package doc for its URLs and
// answers). It is safe for concurrent use.
type Handler struct {
	cfg      HandlerConfig
	verifier *Verifier
	keys     Keys
	cors     cors
	log      *slog.Logger
	limit    *logLimiter
	metrics  *metrics
}

// NewHandler returns a license handler that verifies tokens with v and
// finds content keys in keys. Metrics are registered on reg (nil: not
// registered); refusals are logged to log (nil: discarded).
func NewHandler(cfg HandlerConfig, v *Verifier, keys Keys, log *slog.Logger, reg prometheus.Registerer) (*Handler, error) {
	if v == nil || keys == nil {
		return nil, errors.New("new license handler: a verifier and a key source are required")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if !strings.HasPrefix(cfg.Prefix, "/") || !strings.HasSuffix(cfg.Prefix, "/") {
		return nil, fmt.Errorf("new license handler: prefix %q: want a path that starts and ends with '/'", cfg.Prefix)
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxKids == 0 {
		cfg.MaxKids = DefaultMaxKids
	}
	if cfg.MaxBody < 64 || cfg.MaxKids < 1 {
		return nil, fmt.Errorf("new license handler: max body %d, max kids %d: want at least 64 and 1", cfg.MaxBody, cfg.MaxKids)
	}
	if cfg.LogEvery == 0 {
		cfg.LogEvery = defaultLogEvery
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c, err := newCORS(cfg.AllowOrigins)
	if err != nil {
		return nil, fmt.Errorf("new license handler: %w", err)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("new license handler: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{
		cfg:      cfg,
		verifier: v,
		keys:     keys,
		cors:     c,
		log:      log,
		limit:    &logLimiter{every: cfg.LogEvery, now: cfg.Now},
		metrics:  m,
	}, nil
}

// refusal is a request answered without key material: the reason label,
// the HTTP status, and the error for the log (never sent to the client).
type refusal struct {
	reason string
	status int
	err    error
}

// refuse makes a refusal.
func refuse(reason string, status int, err error) *refusal {
	return &refusal{reason: reason, status: status, err: err}
}

// ServeHTTP answers a license request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	h.cors.header(hdr, r.Header.Get("Origin"))

	rt, ok := parsePath(h.cfg.Prefix, r.URL.EscapedPath())
	if !ok {
		h.refused(w, r, route{kind: kindOther}, nil, refuse(reasonNotFound, http.StatusNotFound, errors.New("not a license URL")))
		return
	}
	allow := "POST, OPTIONS"
	if rt.kind == kindAES128 {
		allow = "GET, OPTIONS"
	}
	if r.Method == http.MethodOptions {
		h.cors.preflight(w, r, allow)
		return
	}
	claims, rf := h.authorize(r, rt, allow)
	if rf != nil {
		if rf.status == http.StatusMethodNotAllowed {
			hdr.Set("Allow", allow)
		}
		h.refused(w, r, rt, claims, rf)
		return
	}
	var body []byte
	var ctype string
	if rt.kind == kindClearKey {
		body, rf = h.clearKey(w, r, rt)
		ctype = "application/json"
	} else {
		body, rf = h.aes128(r, rt)
		ctype = "application/octet-stream"
	}
	if rf != nil {
		h.refused(w, r, rt, claims, rf)
		return
	}
	hdr.Set("Content-Type", ctype)
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	h.metrics.requests.WithLabelValues(rt.kind, "ok").Inc()
}

// authorize checks the method, the token, that the token is for the
// path's channel, and the session.
func (h *Handler) authorize(r *http.Request, rt route, allow string) (*Claims, *refusal) {
	if !strings.HasPrefix(allow, r.Method+",") {
		return nil, refuse(reasonMethod, http.StatusMethodNotAllowed, fmt.Errorf("method %.16q", r.Method))
	}
	tok, err := requestToken(r)
	if err == nil {
		var c *Claims
		if c, err = h.verifier.Verify(tok); err == nil {
			if c.Channel != rt.channel {
				return c, refuse(reasonWrongChannel, http.StatusForbidden, fmt.Errorf("token for channel %q: %w", c.Channel, ErrWrongChannel))
			}
			if h.cfg.SessionCheck != nil {
				if err := h.cfg.SessionCheck(r.Context(), c.Tenant, c.Channel, c.Session); err != nil {
					if errors.Is(err, ErrRevoked) {
						return c, refuse(reasonRevoked, http.StatusForbidden, err)
					}
					return c, refuse(reasonUnavailable, http.StatusServiceUnavailable, fmt.Errorf("session check: %w", err))
				}
			}
			return c, nil
		}
	}
	return nil, refuse(Reason(err), http.StatusUnauthorized, err)
}

// requestToken returns the token of r: from the Authorization header
// ("Bearer" scheme, RFC 6750 section 2.1) if there is one, else from the
// TokenParam query parameter (RFC 6750 section 2.3). A header of another
// scheme, two headers or two parameters are ErrBadToken; none is
// ErrNoToken.
func requestToken(r *http.Request) (string, error) {
	if hs := r.Header.Values("Authorization"); len(hs) > 0 {
		scheme, tok, ok := strings.Cut(hs[0], " ")
		if len(hs) > 1 || !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", fmt.Errorf("authorization header is not one bearer token: %w", ErrBadToken)
		}
		if tok = strings.TrimSpace(tok); tok == "" {
			return "", fmt.Errorf("empty bearer token: %w", ErrNoToken)
		}
		return tok, nil
	}
	if !strings.Contains(r.URL.RawQuery, TokenParam+"=") {
		return "", ErrNoToken
	}
	vs := r.URL.Query()[TokenParam]
	switch {
	case len(vs) > 1:
		return "", fmt.Errorf("%d token parameters: %w", len(vs), ErrBadToken)
	case len(vs) == 0 || vs[0] == "":
		return "", ErrNoToken
	}
	return vs[0], nil
}

// clearKey answers a Clear Key license request with the keys of rt's
// channel among those asked for. Unknown key IDs are left out of the
// license; if none is known the answer is 404 unknown_key.
func (h *Handler) clearKey(w http.ResponseWriter, r *http.Request, rt route) ([]byte, *refusal) {
	if r.ContentLength > h.cfg.MaxBody {
		return nil, refuse(reasonTooLarge, http.StatusRequestEntityTooLarge, fmt.Errorf("content length %d", r.ContentLength))
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, refuse(reasonTooLarge, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", h.cfg.MaxBody))
		}
		return nil, refuse(reasonBadRequest, http.StatusBadRequest, fmt.Errorf("read body: %w", err))
	}
	kids, err := parseClearKeyRequest(data, h.cfg.MaxKids)
	if err != nil {
		return nil, refuse(reasonBadRequest, http.StatusBadRequest, err)
	}
	found := kids[:0:0]
	keys := make([][]byte, 0, len(kids))
	for _, kid := range kids {
		key, rf := h.key(r, rt.channel, kid)
		if rf != nil {
			if rf.reason == reasonUnknownKey {
				continue
			}
			return nil, rf
		}
		found = append(found, kid)
		keys = append(keys, key)
	}
	if len(found) == 0 {
		return nil, refuse(reasonUnknownKey, http.StatusNotFound, fmt.Errorf("none of %d key ids: %w", len(kids), ErrUnknownKey))
	}
	body, err := encodeClearKeyLicense(found, keys)
	if err != nil {
		return nil, refuse(reasonError, http.StatusInternalServerError, err)
	}
	return body, nil
}

// aes128 answers an HLS AES-128 key request with the 16 key bytes.
func (h *Handler) aes128(r *http.Request, rt route) ([]byte, *refusal) {
	return h.key(r, rt.channel, rt.kid)
}

// key looks one content key up and checks its size.
func (h *Handler) key(r *http.Request, channel string, kid [16]byte) ([]byte, *refusal) {
	key, err := h.keys.Key(r.Context(), channel, kid)
	switch {
	case errors.Is(err, ErrUnknownKey):
		return nil, refuse(reasonUnknownKey, http.StatusNotFound, fmt.Errorf("key id %x: %w", kid, err))
	case err != nil:
		return nil, refuse(reasonUnavailable, http.StatusServiceUnavailable, fmt.Errorf("key id %x: %w", kid, err))
	case len(key) != KeySize:
		return nil, refuse(reasonError, http.StatusInternalServerError, fmt.Errorf("key id %x: key store returned %d bytes, want %d", kid, len(key), KeySize))
	}
	return key, nil
}

// refused writes a refusal: the status with {"error":"<reason>"}, no key
// material, counted and logged (at most once per LogEvery per reason).
func (h *Handler) refused(w http.ResponseWriter, r *http.Request, rt route, c *Claims, rf *refusal) {
	hdr := w.Header()
	if rf.status == http.StatusUnauthorized {
		v := `Bearer realm="onair-license"`
		if rf.reason != reasonNoToken {
			v += `, error="invalid_token"`
		}
		hdr.Set("WWW-Authenticate", v)
	}
	body := `{"error":"` + rf.reason + `"}` + "\n"
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rf.status)
	io.WriteString(w, body)

	h.metrics.requests.WithLabelValues(rt.kind, rf.reason).Inc()
	h.metrics.refused.WithLabelValues(rf.reason).Inc()

	ok, suppressed := h.limit.allow(rf.reason)
	if !ok {
		return
	}
	level := slog.LevelInfo
	if rf.status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("reason", rf.reason),
		slog.Int("status", rf.status),
		slog.String("kind", rt.kind),
		slog.String("method", r.Method),
		slog.String("remote", r.RemoteAddr),
	}
	if rt.channel != "" {
		attrs = append(attrs, slog.String("channel", rt.channel))
	}
	if len(h.cfg.TrustedProxies) > 0 {
		if a, ok := clientip.Addr(r, h.trusted); ok {
			attrs = append(attrs, slog.String("client", a.String()))
		}
	}
	if c != nil {
		attrs = append(attrs, slog.String("tenant", c.Tenant), slog.String("session", c.Session), slog.String("jti", c.ID))
	}
	if rf.err != nil {
		attrs = append(attrs, slog.String("err", rf.err.Error()))
	}
	if suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed", suppressed))
	}
	h.log.LogAttrs(r.Context(), level, "license refused", attrs...)
}

// trusted reports whether a is one of the trusted proxies.
func (h *Handler) trusted(a netip.Addr) bool {
	for _, p := range h.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
