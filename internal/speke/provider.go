package speke

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/cpix"
)

// KeySource supplies content keys to the Provider; onair backs it with its
// encrypted key store. It must be safe for concurrent use.
type KeySource interface {
	// ContentKey returns the 16-byte key for kid of contentID, and the
	// 16-byte IV to announce with it, or nil when the key has none (the
	// encryptor then picks IVs, e.g. per sample or the HLS media sequence
	// number). scheme is the request's commonEncryptionScheme. The same
	// contentID and kid must always give the same key: encryptors ask
	// again after restarts. Wrap ErrKeyRefused to refuse (403); any other
	// error is a failure of the source (503).
	ContentKey(ctx context.Context, contentID string, kid [16]byte, scheme string) (key, iv []byte, err error)
}

// ProviderConfig configures a Provider.
type ProviderConfig struct {
	// LicenseURL is the URL template of the W3C Clear Key license
	// endpoint players ask for keys, written into Clear Key DASH
	// signaling (dashif:Laurl) and HLS signaling (EXT-X-KEY URI). An
	// absolute http(s) URL in which {content_id}, {kid} and {kid_hex} are
	// replaced, e.g. "https://onair.example/license/{content_id}/clearkey".
	// Required.
	LicenseURL string
	// KeyURL is the URL template of the HLS AES-128 key endpoint (it
	// returns the 16 raw key bytes), for the Clear Key AES-128 systems,
	// e.g. "https://onair.example/license/{content_id}/aes128/{kid_hex}".
	// Empty: the provider refuses Clear Key AES-128 requests.
	KeyURL string
	// UserAgent is the X-Speke-User-Agent of responses. Default "onair".
	UserAgent string
	// MaxRequestBytes bounds the request body. Default (0) and maximum:
	// cpix.MaxDocumentSize (1 MiB).
	MaxRequestBytes int64
	// Auth checks each request before its body is read, e.g. a bearer
	// token (BearerAuth) or an mTLS peer; an error refuses it with 401
	// (its message is logged, not sent). Required: a key provider without
	// authentication gives keys to anyone who can reach it.
	Auth func(r *http.Request) error
}

// ProviderDeps are the Provider's collaborators.
type ProviderDeps struct {
	Keys KeySource // required
	// Logger receives one line per refused or failed request (Warn) and
	// per served one (Debug). Nil: no logging.
	Logger *slog.Logger
	// Registerer receives the metrics. Nil: not registered.
	Registerer prometheus.Registerer
}

// Provider is a SPEKE v2.0 key provider, an http.Handler (see the
// package documentation). Safe for concurrent use.
type Provider struct {
	licenseURL urlTemplate
	keyURL     urlTemplate // "" if not configured
	userAgent  string
	maxBytes   int64
	auth       func(*http.Request) error
	keys       KeySource
	log        *slog.Logger
	metrics    *providerMetrics
}

// NewProvider checks cfg and builds a Provider. It starts nothing.
func NewProvider(cfg ProviderConfig, deps ProviderDeps) (*Provider, error) {
	var problems []error
	lic, err := parseTemplate(cfg.LicenseURL)
	if cfg.LicenseURL == "" {
		err = errors.New("LicenseURL is required")
	}
	if err != nil {
		problems = append(problems, fmt.Errorf("license URL: %w", err))
	}
	var key urlTemplate
	if cfg.KeyURL != "" {
		if key, err = parseTemplate(cfg.KeyURL); err != nil {
			problems = append(problems, fmt.Errorf("key URL: %w", err))
		}
	}
	if cfg.MaxRequestBytes < 0 || cfg.MaxRequestBytes > cpix.MaxDocumentSize {
		problems = append(problems, fmt.Errorf("MaxRequestBytes %d: want 0 (default) to %d", cfg.MaxRequestBytes, cpix.MaxDocumentSize))
	}
	if strings.ContainsFunc(cfg.UserAgent, func(r rune) bool { return r < ' ' || r > '~' }) {
		problems = append(problems, fmt.Errorf("UserAgent %q: want printable ASCII", cfg.UserAgent))
	}
	if cfg.Auth == nil {
		problems = append(problems, errors.New("Auth is required (e.g. BearerAuth)"))
	}
	if deps.Keys == nil {
		problems = append(problems, errors.New("a KeySource is required"))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("speke provider: %w", errors.Join(problems...))
	}
	m, err := newProviderMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	p := &Provider{
		licenseURL: lic,
		keyURL:     key,
		userAgent:  cfg.UserAgent,
		maxBytes:   cfg.MaxRequestBytes,
		auth:       cfg.Auth,
		keys:       deps.Keys,
		log:        deps.Logger,
		metrics:    m,
	}
	if p.userAgent == "" {
		p.userAgent = "onair"
	}
	if p.maxBytes == 0 {
		p.maxBytes = cpix.MaxDocumentSize
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

// BearerAuth returns an Auth hook accepting requests whose Authorization
// header is "Bearer <token>", compared in constant time. token must not
// be empty.
func BearerAuth(token string) func(r *http.Request) error {
	want := []byte("Bearer " + token)
	return func(r *http.Request) error {
		if token == "" {
			return errors.New("no bearer token configured")
		}
		got := r.Header.Get("Authorization")
		if got == "" {
			return errors.New("no Authorization header")
		}
		if subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			return errors.New("wrong bearer token")
		}
		return nil
	}
}

// providerError is a refused or failed request: the status and the
// message the client sees, the metric label, and the cause for the log.
type providerError struct {
	status int
	result string // onair_speke_provider_requests_total result label
	msg    string // sent to the client
	cause  error  // logged; may be nil
}

func (e *providerError) Error() string {
	if e.cause != nil {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

func refuse(status int, result, format string, a ...any) *providerError {
	return &providerError{status: status, result: result, msg: fmt.Sprintf(format, a...)}
}

// ServeHTTP answers one SPEKE v2.0 request.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, doc, err := p.serve(w, r)
	h := w.Header()
	h.Set(HeaderVersion, Version)
	h.Set(HeaderUserAgent, p.userAgent)
	h.Set("Cache-Control", "no-store")
	if err != nil {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(err.status)
		fmt.Fprintln(w, err.msg)
		p.metrics.requests.WithLabelValues(err.result).Inc()
		attrs := []any{"role", "keys", "status", err.status, "result", err.result, "remote", r.RemoteAddr, "error", err.Error()}
		if doc != nil {
			attrs = append(attrs, "content_id", doc.ContentID)
		}
		p.log.Warn("speke request refused", attrs...)
		return
	}
	h.Set("Content-Type", ContentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	p.metrics.requests.WithLabelValues(resultOK).Inc()
	p.metrics.keys.Add(float64(len(doc.ContentKeys)))
	p.log.Debug("speke request served", "role", "keys", "content_id", doc.ContentID,
		"keys", len(doc.ContentKeys), "drm_systems", len(doc.DRMSystems), "remote", r.RemoteAddr)
}

// serve checks the request, fills the document and returns the response
// body, or the error to answer with. doc is returned once parsed.
func (p *Provider) serve(w http.ResponseWriter, r *http.Request) ([]byte, *cpix.Document, *providerError) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, nil, refuse(http.StatusMethodNotAllowed, resultMethod, "method %s not allowed: SPEKE requests are POST", r.Method)
	}
	if err := p.auth(r); err != nil {
		e := refuse(http.StatusUnauthorized, resultUnauthorized, "unauthorized")
		e.cause = err
		return nil, nil, e
	}
	switch v := r.Header.Get(HeaderVersion); v {
	case Version:
	case "":
		return nil, nil, refuse(http.StatusBadRequest, resultVersion,
			"Unsupported SPEKE version: no %s header (SPEKE v1 requests are not supported; this key provider speaks SPEKE %s with CPIX %s)", HeaderVersion, Version, cpix.Version)
	default:
		return nil, nil, refuse(http.StatusBadRequest, resultVersion,
			"Unsupported SPEKE version: %s %q (this key provider speaks SPEKE %s with CPIX %s)", HeaderVersion, excerpt([]byte(v), 20), Version, cpix.Version)
	}
	if ct := r.Header.Get("Content-Type"); !isXML(ct) {
		return nil, nil, refuse(http.StatusUnsupportedMediaType, resultMediaType,
			"Content-Type %q: want %s (UTF-8)", excerpt([]byte(ct), 60), ContentType)
	}
	body, perr := p.readBody(w, r)
	if perr != nil {
		return nil, nil, perr
	}
	doc, err := cpix.Parse(body)
	if err != nil {
		return nil, nil, refuse(http.StatusBadRequest, resultMalformed, "%v", err)
	}
	if err := doc.Validate(); err != nil {
		if doc.Version != cpix.Version {
			return nil, doc, refuse(http.StatusBadRequest, resultVersion,
				"Unsupported CPIX version %q: SPEKE %s uses CPIX %s", excerpt([]byte(doc.Version), 20), Version, cpix.Version)
		}
		return nil, doc, refuse(http.StatusBadRequest, resultInvalid, "%v", err)
	}
	if perr := p.fill(r.Context(), doc); perr != nil {
		return nil, doc, perr
	}
	if err := doc.Validate(); err != nil {
		return nil, doc, &providerError{status: http.StatusInternalServerError, result: resultInternal,
			msg: "internal error", cause: fmt.Errorf("filled document is invalid: %w", err)}
	}
	out, err := cpix.Marshal(doc)
	if err != nil {
		return nil, doc, &providerError{status: http.StatusInternalServerError, result: resultInternal, msg: "internal error", cause: err}
	}
	return out, doc, nil
}

// readBody reads the request body up to the limit.
func (p *Provider) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *providerError) {
	if r.ContentLength > p.maxBytes {
		return nil, refuse(http.StatusRequestEntityTooLarge, resultTooLarge, "request body of %d bytes exceeds the limit of %d", r.ContentLength, p.maxBytes)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, p.maxBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, refuse(http.StatusRequestEntityTooLarge, resultTooLarge, "request body exceeds the limit of %d bytes", p.maxBytes)
		}
		e := refuse(http.StatusBadRequest, resultMalformed, "reading the request body failed")
		e.cause = err
		return nil, e
	}
	return body, nil
}
