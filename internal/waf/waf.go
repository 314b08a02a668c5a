package waf

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/corazawaf/coraza/v3"
	"github.com/prometheus/client_golang/prometheus"
)

// sweepEvery is how often Run drops idle rate-limit entries.
const sweepEvery = 30 * time.Second

// WAF is a web application firewall for onair's HTTP servers: a
// Middleware that rate-limits every request by client address and token,
// runs the OWASP core rule set on full-mode requests and checks the URL
// shape of cheap-mode ones. Safe for concurrent use.
type WAF struct {
	cfg         Config
	log         *slog.Logger
	engine      coraza.WAF // nil when disabled
	ipLim       *limiter   // nil when off
	tokenLim    *limiter   // nil when off
	seed        maphash.Seed
	cheapParams map[string]bool
	metrics     *metrics
	logs        *logThrottle
}

// New validates cfg and, when it is enabled, compiles the rule set
// (Coraza's recommended base, the CRS setup and request rules from the
// embedded coreruleset FS, onair's exclusions, cfg.Directives). Metrics
// are registered on reg (none if nil). It starts nothing: Run sweeps the
// rate-limit tables.
func New(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*WAF, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, fmt.Errorf("waf: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &WAF{
		cfg:  cfg,
		log:  log.With("role", "waf"),
		seed: maphash.MakeSeed(),
		logs: newLogThrottle(),
	}
	if len(cfg.CheapParams) > 0 {
		w.cheapParams = make(map[string]bool, len(cfg.CheapParams))
		for _, p := range cfg.CheapParams {
			w.cheapParams[p] = true
		}
	}
	if cfg.Enabled {
		engine, err := newEngine(&w.cfg)
		if err != nil {
			return nil, fmt.Errorf("waf: %w", err)
		}
		w.engine = engine
		if !cfg.IPRate.off() {
			w.ipLim = newLimiter(cfg.IPRate, cfg.MaxClients)
		}
		if !cfg.TokenRate.off() {
			w.tokenLim = newLimiter(cfg.TokenRate, cfg.MaxClients)
		}
	}
	m, err := newMetrics(reg, w)
	if err != nil {
		return nil, fmt.Errorf("waf: %w", err)
	}
	w.metrics = m
	return w, nil
}

// Run drops idle rate-limit entries every 30 s until ctx is done, then
// returns nil. Without it the tables still stay within MaxClients.
func (w *WAF) Run(ctx context.Context) error {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			w.sweep()
		}
	}
}

// sweep drops the rate-limit entries that are full again.
func (w *WAF) sweep() {
	now := w.cfg.Now()
	for _, l := range []*limiter{w.ipLim, w.tokenLim} {
		if l != nil {
			l.sweep(now)
		}
	}
}

// Middleware returns next behind the WAF, or next itself when the WAF is
// disabled. Refusals are answered here (403 or 400 with a request id,
// 413, 429 with Retry-After; never with rule details), counted and
// logged with the rule that caused them; everything else reaches next
// with its body intact.
func (w *WAF) Middleware(next http.Handler) http.Handler {
	if !w.cfg.Enabled {
		return next
	}
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.serve(rw, r, next)
	})
}

func (w *WAF) serve(rw http.ResponseWriter, r *http.Request, next http.Handler) {
	mode := w.cfg.Classify(r)
	if mode != ModeCheap {
		mode = ModeFull
	}
	w.metrics.requests[mode].Inc()
	client, known := w.cfg.ClientIP(r)
	if !w.admit(rw, r, client, known) {
		return
	}
	if mode == ModeCheap {
		if err := w.checkCheap(r); err != nil {
			w.refuse(rw, r, client, http.StatusForbidden, reasonURLShape, slog.String("detail", err.Error()))
			return
		}
		next.ServeHTTP(rw, r)
		return
	}
	body, ok := w.readBody(rw, r, client)
	if !ok {
		return
	}
	h, err := inspect(w.engine, r, body, client)
	if err != nil {
		w.log.Error("waf inspection failed", "client_ip", ipAttr(client), "method", r.Method, "path", clip(r.URL.Path), "err", err)
		writeText(rw, http.StatusInternalServerError, "internal server error\n")
		return
	}
	if h != nil {
		w.refuse(rw, r, client, h.status, reasonRule,
			slog.Int("rule_id", h.rule), slog.Any("rules", h.rules),
			slog.String("rule_msg", clip(h.msg)), slog.String("rule_data", clip(h.data)),
			slog.Int("anomaly_score", h.score))
		return
	}
	next.ServeHTTP(rw, r)
}

// admit applies the address and token limits, answering 429 when one is
// spent.
func (w *WAF) admit(rw http.ResponseWriter, r *http.Request, client netip.Addr, known bool) bool {
	now := w.cfg.Now()
	if w.ipLim != nil && known {
		if v := w.ipLim.take(w.ipKey(client), now); !v.ok {
			w.limited(rw, r, client, reasonRateIP, v)
			return false
		}
	}
	if w.tokenLim != nil {
		if tok := w.cfg.Token(r); tok != "" {
			if v := w.tokenLim.take(maphash.String(w.seed, tok), now); !v.ok {
				w.limited(rw, r, client, reasonRateToken, v)
				return false
			}
		}
	}
	return true
}

// ipKey is the rate-limit key of a client address: the address, or the
// /64 of an IPv6 one (a host usually holds a whole /64).
func (w *WAF) ipKey(a netip.Addr) uint64 {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			a = p.Addr()
		}
	}
	return maphash.Comparable(w.seed, a.As16())
}

// checkCheap checks a cheap-mode request's method and URL.
func (w *WAF) checkCheap(r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		return fmt.Errorf("%w: method not allowed", ErrURLShape)
	}
	return checkURL(requestTarget(r), w.cheapParams)
}

// readBody reads a full-mode request's body, at most RequestBodyLimit
// bytes (413 beyond), and puts a copy back for the next handler.
func (w *WAF) readBody(rw http.ResponseWriter, r *http.Request, client netip.Addr) ([]byte, bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true
	}
	limit := int64(w.cfg.RequestBodyLimit)
	if r.ContentLength > limit {
		w.refuse(rw, r, client, http.StatusRequestEntityTooLarge, reasonBodySize, slog.Int64("content_length", r.ContentLength))
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		w.log.Debug("waf read request body", "client_ip", ipAttr(client), "err", err)
		writeText(rw, http.StatusBadRequest, "bad request\n")
		return nil, false
	}
	if int64(len(body)) > limit {
		w.refuse(rw, r, client, http.StatusRequestEntityTooLarge, reasonBodySize, slog.Int64("content_length", r.ContentLength))
		return nil, false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, true
}
