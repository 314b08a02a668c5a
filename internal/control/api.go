package control

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/authz"
)

// maxBodyBytes bounds every request body (413 beyond).
const maxBodyBytes = 64 << 10

// Config configures the API.
type Config struct {
	// Token is the operator token. Empty (the default) serves loopback
	// clients only; when set, every API request needs
	// "Authorization: Bearer <Token>" and the dashboard a session cookie
	// obtained with ?token=<Token>. It must not contain spaces or control
	// characters.
	Token string
	// Tenants, if set, accepts tenant API keys as bearer tokens and serves
	// /api/v1/tenants; nil: the operator is the only principal.
	Tenants Tenants
	// PolicyFile adds Cedar policies to the built-in ones (internal/authz).
	PolicyFile string
}

// API serves the REST API and the dashboard. Build it with New.
type API struct {
	cfg     Config
	m       Manager
	log     *slog.Logger
	metrics *metrics
	auth    *auth
	authz   *authz.Authorizer
	tenants Tenants
	mux     *http.ServeMux
	web     *dashboard
}

// New validates cfg and builds an API over m. It registers its metrics on
// reg (a fresh private registry if nil) and starts nothing.
func New(cfg Config, m Manager, log *slog.Logger, reg prometheus.Registerer) (*API, error) {
	if m == nil {
		return nil, errors.New("control: nil manager")
	}
	if strings.ContainsFunc(cfg.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, errors.New("control: operator token must not contain spaces or control characters")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	met, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	az, err := authz.New(authz.Config{PolicyFile: cfg.PolicyFile}, log.With("role", "authz"), reg)
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	web, err := newDashboard()
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	a := &API{
		cfg:     cfg,
		m:       m,
		log:     log.With("role", "control"),
		metrics: met,
		auth:    newAuth(cfg.Token, keyAuthenticator(cfg.Tenants), met.authFailures),
		authz:   az,
		tenants: cfg.Tenants,
		mux:     http.NewServeMux(),
		web:     web,
	}
	a.routes()
	return a, nil
}

// Handler returns the HTTP handler for /api/v1/..., the dashboard pages and
// /assets/. Every request is counted, then authorized, then routed.
func (a *API) Handler() http.Handler {
	return a.instrument(a.auth.guard(a.mux))
}

func (a *API) routes() {
	const (
		channels = "/api/v1/channels"
		channel  = "/api/v1/channels/{name}"
	)
	mux := a.mux
	mux.Handle("GET "+channels, a.serveAPI(a.listChannels))
	mux.Handle("POST "+channels, a.serveAPI(a.createChannel))
	mux.Handle(channels, methodNotAllowed("GET, HEAD, POST"))
	mux.Handle("GET "+channel, a.serveAPI(a.getChannel))
	mux.Handle("DELETE "+channel, a.serveAPI(a.deleteChannel))
	mux.Handle("PATCH "+channel, a.serveAPI(a.updateChannel))
	mux.Handle(channel, methodNotAllowed("GET, HEAD, PATCH, DELETE"))
	mux.Handle("POST "+channel+"/tokens", a.serveAPI(a.issueToken))
	mux.Handle(channel+"/tokens", methodNotAllowed("POST"))
	mux.Handle("POST "+channel+"/pipelines/{pipeline}", a.serveAPI(a.pipelineAction))
	mux.Handle(channel+"/pipelines/{pipeline}", methodNotAllowed("POST"))
	mux.Handle("POST "+channel+"/start", a.serveAPI(a.setEnabled(true)))
	mux.Handle(channel+"/start", methodNotAllowed("POST"))
	mux.Handle("POST "+channel+"/stop", a.serveAPI(a.setEnabled(false)))
	mux.Handle(channel+"/stop", methodNotAllowed("POST"))
	mux.Handle("POST "+channel+"/input", a.serveAPI(a.selectInput))
	mux.Handle(channel+"/input", methodNotAllowed("POST"))
	mux.Handle("GET "+channel+"/sessions", a.serveAPI(a.listSessions))
	mux.Handle(channel+"/sessions", methodNotAllowed("GET, HEAD"))
	mux.Handle("DELETE "+channel+"/sessions/{session}", a.serveAPI(a.revokeSession))
	mux.Handle(channel+"/sessions/{session}", methodNotAllowed("DELETE"))
	a.tenantRoutes()
	mux.Handle("POST /api/v1/alerts/alertmanager", a.serveAPI(a.alertWebhook))
	mux.Handle("/api/v1/alerts/alertmanager", methodNotAllowed("POST"))
	mux.Handle("GET /api/v1/events", a.serveAPI(a.listEvents))
	mux.Handle("/api/v1/events", methodNotAllowed("GET, HEAD"))
	mux.Handle("/api/", a.serveAPI(func(http.ResponseWriter, *http.Request) error {
		return errorf(http.StatusNotFound, "no such API endpoint")
	}))

	mux.Handle("GET /{$}", a.web.page("index.html"))
	mux.Handle("GET /channels/{name}", a.web.channelPage())
	mux.Handle("GET /assets/", a.web.assets())
	mux.Handle("/", a.web.notFound())
}

// methodNotAllowed answers 405 with an Allow header and a JSON error.
func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{
			Error: fmt.Sprintf("method %s not allowed; use %s", r.Method, allow),
		})
	})
}

// baseURL is scheme://host of the request, for URLs handed back to the
// caller. The host comes from the Host header, which the server has already
// checked for syntax; we refuse anything that would break out of the
// authority component.
func baseURL(r *http.Request) (string, error) {
	host := r.Host
	if host == "" || strings.ContainsAny(host, "/?#@\\ \t\r\n") {
		return "", errorf(http.StatusBadRequest, "bad Host header %q", host)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + host, nil
}
