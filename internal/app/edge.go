package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"onair/internal/config"
	"onair/internal/edge"
	"onair/internal/session"
	"onair/internal/signing"
	"onair/internal/store"
	"onair/internal/waf"
)

// EdgeOptions configure a standalone edge (`onair edge`).
type EdgeOptions struct {
	// Config is the edge section to start with (config.Edge documents
	// the fields; Enabled is ignored). Upstreams must not be empty.
	Config config.Edge
	// Reload, if set, asks for a reload with every value received (main
	// passes SIGHUP).
	Reload <-chan os.Signal
	// Load returns the edge section a reload applies: usually the config
	// file read again, with the environment and flags over it. nil:
	// reloads are ignored.
	Load func() (config.Edge, error)
	// Ready, if set, is called once the listeners are bound.
	Ready func(EdgeAddrs)
	// WAF is the configuration's waf section: the same firewall as
	// serve's public port (fixed until restart).
	WAF config.WAF
}

// EdgeAddrs are a standalone edge's bound addresses; nil when off.
type EdgeAddrs struct {
	HTTP, HTTPS net.Addr
}

// edgeConfig is the edge role's configuration for section c with the
// origin group ups.
func edgeConfig(c config.Edge, ups []string) edge.Config {
	return edge.Config{
		Upstreams:       slices.Clone(ups),
		CacheBytes:      int64(c.CacheMiB) << 20,
		UpstreamTimeout: c.UpstreamTimeout,
		BlockTimeout:    c.BlockTimeout,
		MaxHeaderBytes:  c.MaxHeaderBytes,
		MaxURLBytes:     c.MaxURLBytes,
		SpillDir:        c.SpillDir,
		SpillBytes:      int64(c.SpillMiB) << 20,
		Slate:           edge.SlateConfig{Image: c.SlateImage, Text: c.SlateText},
		UpstreamHeaders: upstreamHeaders(c),
	}
}

// upstreamHeaders are what an edge sends with every upstream request: the
// origin's shared secret, if configured.
func upstreamHeaders(c config.Edge) http.Header {
	if c.OriginSecret == "" {
		return nil
	}
	return http.Header{OriginSecretHeader: {c.OriginSecret}}
}

// alarmEvents turns the edge's manifest-age alarms into events sent by
// publish; source names the process that saw them.
func alarmEvents(source string, publish func(store.Event) error, log *slog.Logger) func(edge.Alarm) {
	return func(a edge.Alarm) {
		e := store.Event{
			At: a.At, Kind: "edge.manifest_age.cleared", Channel: a.Channel, Source: source,
			Reason: "the channel's playlists advance again",
			Data:   map[string]any{"age_s": a.Age.Seconds()},
		}
		if a.Raised {
			e.Kind, e.Reason = "edge.manifest_age.raised", "the channel's playlists stopped advancing"
		}
		if err := publish(e); err != nil {
			log.Warn("manifest-age event not published", "channel", a.Channel, "err", err)
		}
	}
}

// RunEdge runs a caching edge in front of an origin group until ctx ends.
// /metrics, /healthz and /readyz are answered by the edge itself; every
// other path is proxied and cached. On every value from opts.Reload it
// applies opts.Load's section live (see edgeReloader).
func RunEdge(ctx context.Context, opts EdgeOptions, log *slog.Logger) error {
	cfg := opts.Config
	if len(cfg.Upstreams) == 0 {
		return errors.New("edge: no upstream: give --upstream or edge.upstreams")
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ecfg := edgeConfig(cfg, cfg.Upstreams)
	if len(cfg.SignedPrefixes) > 0 {
		if len(cfg.SigningKeys) == 0 {
			return errors.New("edge: signed_prefixes need signing_keys (the public keys tokens are checked with)")
		}
		v, err := newVerifier(cfg, nil)
		if err != nil {
			return fmt.Errorf("edge: %w", err)
		}
		prefixes := cfg.SignedPrefixes
		ecfg.Access = &edge.AccessConfig{Verifier: v, Protected: func(path string) bool {
			for _, p := range prefixes {
				if strings.HasPrefix(path, p) {
					return true
				}
			}
			return false
		}}
	}
	eg, err := newEdgeGeo(cfg)
	if err != nil {
		return fmt.Errorf("edge: %w", err)
	}
	proxies := trustedProxies(cfg)
	if ecfg.Access == nil {
		ecfg.Access = &edge.AccessConfig{} // country rules only
	}
	ecfg.Access.GeoRule, ecfg.Access.Country, ecfg.Access.TrustedProxies = eg.rule, eg.db.Country, proxies
	var revoked *session.Revocations
	var sessionsJS jetstream.JetStream
	if cfg.EventsURL != "" {
		events, err := store.DialEvents(cfg.EventsURL, "onair edge")
		if err != nil {
			return fmt.Errorf("edge: events: %w", err)
		}
		defer events.Close()
		ecfg.OnAlarm = alarmEvents("edge "+cfg.Listen, events.Publish, log)
		if ecfg.Access != nil {
			// Revoked viewer sessions, from the same NATS as serve's.
			if sessionsJS, err = events.JetStream(); err != nil {
				return fmt.Errorf("edge: %w", err)
			}
			if revoked, err = session.NewRevocations(session.RevocationsConfig{}, log.With("role", "sessions"), reg); err != nil {
				return fmt.Errorf("edge: %w", err)
			}
			ecfg.Access.Session = func(_ *http.Request, c *signing.Claims) bool {
				return !revoked.Revoked(c.Tenant, c.Channel, c.Session)
			}
		}
	}
	e, err := edge.New(ecfg, log, reg)
	if err != nil {
		return err
	}
	elog := log.With("role", "edge")
	pub, err := listenPublic(cfg.Listen, cfg, elog, reg)
	if err != nil {
		return fmt.Errorf("edge: %w", err)
	}
	defer pub.close()
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	health := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintln(w, "ok")
	}
	mux.HandleFunc("/healthz", health)
	mux.HandleFunc("/readyz", health)
	var fw *waf.WAF
	if opts.WAF.Enabled {
		if fw, err = newWAF(opts.WAF, clientAddr(proxies), elog, reg); err != nil {
			return fmt.Errorf("edge: %w", err)
		}
		mux.Handle("/", fw.Middleware(e.Handler()))
	} else {
		mux.Handle("/", e.Handler())
	}
	srv := publicServer(canonicalPaths(mux), cfg, pub.certs, elog)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return e.Run(gctx) })
	if revoked != nil {
		g.Go(func() error { return revoked.Run(gctx, sessionsJS) })
	}
	if fw != nil {
		g.Go(func() error { return fw.Run(gctx) })
	}
	pub.serve(g, srv, "edge")
	g.Go(func() error {
		<-gctx.Done()
		return shutdown(srv, elog)
	})
	r := &edgeReloader{edge: e, geo: eg, pub: pub, running: cfg, load: opts.Load, log: elog}
	g.Go(func() error {
		for {
			select {
			case <-gctx.Done():
				return nil
			case <-opts.Reload:
				r.reload()
			}
		}
	})
	var addrs EdgeAddrs
	addrs.HTTP, addrs.HTTPS = pub.addrs()
	elog.Info("onair edge is up", "http", addrString(addrs.HTTP), "https", addrString(addrs.HTTPS), "upstreams", cfg.Upstreams)
	if opts.Ready != nil {
		opts.Ready(addrs)
	}
	return g.Wait()
}

// edgeReloader applies a new edge section to a running standalone edge:
// the origin group and cache budget (edge.Edge.Reconfigure), the
// connection limit and the TLS certificate (read again from its files, so
// a renewed certificate is served without a restart). A section that does
// not load, has no upstream, names a certificate that does not load or
// that the edge refuses is not applied at all: an error is logged and the
// running configuration stays. Listen addresses and turning TLS on or off
// need a restart; a warning says so.
type edgeReloader struct {
	edge    *edge.Edge
	geo     *edgeGeo
	pub     *publicListeners
	running config.Edge
	load    func() (config.Edge, error)
	log     *slog.Logger
}

func (r *edgeReloader) reload() {
	if r.load == nil {
		r.log.Warn("reload asked for, but there is no configuration to read")
		return
	}
	refuse := func(err error) {
		r.log.Error("edge reload refused, the running configuration stays", "err", err)
	}
	next, err := r.load()
	if err != nil {
		refuse(err)
		return
	}
	if len(next.Upstreams) == 0 {
		refuse(errors.New("no upstream"))
		return
	}
	var cert *tls.Certificate
	if r.pub.certs != nil && next.TLS() {
		if cert, err = loadCertificate(next.CertFile, next.KeyFile); err != nil {
			refuse(err)
			return
		}
	}
	ng, err := newEdgeGeo(next)
	if err != nil {
		refuse(err)
		return
	}
	if err := r.edge.Reconfigure(edgeConfig(next, next.Upstreams)); err != nil {
		refuse(err)
		return
	}
	r.geo.db.Store(ng.db.Load())
	r.geo.rules.Store(ng.rules.Load())
	r.pub.limiter.SetMax(next.MaxConns)
	if cert != nil {
		r.pub.certs.store(cert)
	}
	var fixed []string
	if next.Listen != r.running.Listen {
		fixed = append(fixed, "listen")
	}
	if next.TLS() != r.running.TLS() || (next.TLS() && next.TLSListen != r.running.TLSListen) {
		fixed = append(fixed, "tls_listen")
	}
	if len(fixed) > 0 {
		r.log.Warn("edge reload: these settings only change on restart", "fields", fixed)
	}
	r.running = next
	r.log.Info("edge configuration reloaded", "upstreams", next.Upstreams, "cache_mib", next.CacheMiB, "max_conns", next.MaxConns,
		"geo_rules", len(next.GeoRules), "geo_database", next.GeoDatabase)
}

// originEdge is `onair serve`'s built-in edge: an edge.Edge whose primary
// upstream is the in-process origin, served on a loopback listener of its
// own (127.0.0.1, a random port) that viewers never reach. Secondary
// upstreams from the configuration follow it.
type originEdge struct {
	edge *edge.Edge
	ln   net.Listener
	srv  *http.Server
	log  *slog.Logger
}

// listenOriginEdge binds the origin's loopback listener and builds the
// edge in front of it; its metrics go to reg. The caller closes it if it
// never runs.
func listenOriginEdge(cfg config.Config, origin http.Handler, acc *edge.AccessConfig, onAlarm func(edge.Alarm), log *slog.Logger, reg prometheus.Registerer) (*originEdge, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("edge: origin loopback listener: %w", err)
	}
	ec := cfg.Edge
	// The origin holds a blocking reload, or a request for a part not yet
	// made, for up to 3 segments: the edge must wait longer than that.
	hold := 3*cfg.Segments.Duration + 2*time.Second
	ec.UpstreamTimeout = max(ec.UpstreamTimeout, hold)
	ec.BlockTimeout = max(ec.BlockTimeout, hold)
	ups := append([]string{"http://" + ln.Addr().String()}, cfg.Edge.Upstreams...)
	ecfg := edgeConfig(ec, ups)
	ecfg.OnAlarm = onAlarm
	ecfg.Access = acc
	e, err := edge.New(ecfg, log, reg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	elog := log.With("role", "edge")
	return &originEdge{
		edge: e,
		ln:   ln,
		srv: &http.Server{
			Handler:           withoutHost(origin),
			ReadHeaderTimeout: 5 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(elog.Handler(), slog.LevelDebug),
		},
		log: elog,
	}, nil
}

// Handler answers playback paths through the edge.
func (o *originEdge) Handler() http.Handler { return o.edge.Handler() }

// Run serves the origin on the loopback listener and runs the edge's
// upstream probes until ctx ends.
func (o *originEdge) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return o.edge.Run(gctx) })
	g.Go(func() error {
		if err := o.srv.Serve(o.ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("edge: origin loopback: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		return shutdown(o.srv, o.log)
	})
	return g.Wait()
}

// Close releases the listener of an originEdge that never ran.
func (o *originEdge) Close() { o.ln.Close() }

// withoutHost hides the loopback host from the origin. The origin writes
// the host a request came to into absolute URLs (the MPD's UTCTiming);
// behind the edge that host is the loopback listener, meaningless to
// viewers, and the response is cached for viewers of every host. Without
// a host the origin writes a relative URL, which players resolve against
// the MPD's URL (RFC 3986 section 5; dash.js does).
func withoutHost(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(r.Context()) // a shallow copy: handlers must not change theirs
		r.Host = ""
		h.ServeHTTP(w, r)
	})
}
