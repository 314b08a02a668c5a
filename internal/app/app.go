package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"onair/internal/config"
	"onair/internal/control"
	"onair/internal/ingest"
	"onair/internal/ingest/rtmp"
	"onair/internal/ingest/srt"
	"onair/internal/license"
	"onair/internal/live"
	"onair/internal/origin"
	"onair/internal/packager"
	"onair/internal/store"
	"onair/internal/tenant"
	"onair/internal/waf"
)

// Options are run-time choices that are not configuration.
type Options struct {
	// Demo creates the channel "demo" and feeds it from a synthetic
	// ffmpeg source published to this server's own RTMP ingest.
	Demo bool
	// Ready, if set, is called once every listener is bound, with the
	// bound addresses.
	Ready func(Addrs)
	// Reload, if set, reloads what can change without a restart with
	// every value received (main passes SIGHUP): today the country
	// database (edge.geo_database), read again from its file.
	Reload <-chan os.Signal
}

// Addrs are the bound listener addresses; nil for a listener that is off.
type Addrs struct {
	HTTP, HTTPS, RTMP, RTMPS, SRT net.Addr
}

// App is one onair process with every role.
type App struct {
	cfg  config.Config
	opts Options
	log  *slog.Logger
	reg  *prometheus.Registry
}

// New validates the configuration. It starts nothing.
func New(cfg config.Config, opts Options, log *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &App{cfg: cfg, opts: opts, log: log, reg: reg}, nil
}

// Run runs every role until ctx ends or one fails. It returns nil on a
// clean shutdown.
func (a *App) Run(ctx context.Context) error {
	cfg := a.cfg
	st, err := store.Open(ctx, store.Config{URL: cfg.NATS.URL, Dir: cfg.DataDir}, a.log)
	if err != nil {
		return err
	}
	defer st.Close()

	objs, err := openStore(ctx, cfg, a.log.With("role", "storage"), a.reg)
	if err != nil {
		return err
	}
	index := live.NewIndex(0)
	pkg, err := packager.New(packager.Config{Grid: cfg.Grid(false), Window: cfg.Segments.Window, Retention: cfg.Segments.Retention},
		objs, index, a.log.With("role", "packager"), a.reg)
	if err != nil {
		return err
	}
	acc, err := newAccess(cfg)
	if err != nil {
		return err
	}
	var sess *viewerSessions // set below, before anything is served
	keys, err := newDRM(ctx, cfg, st, acc.signer.Kid(), acc.priv, func(ctx context.Context, tenant, channel, id string) error {
		return sess.check(ctx, tenant, channel, id)
	}, a.log, a.reg)
	if err != nil {
		return err
	}
	defer keys.Close()
	if sess, err = newViewerSessions(cfg, st.JetStream(), keys.kms, a.log, a.reg); err != nil {
		return err
	}
	acc.session = sess.admit
	chans := newChannels(cfg, st, objs, index, pkg, a.log, a.reg)
	chans.access = acc
	chans.drm = keys
	chans.sessions = sess.store
	for _, c := range []prometheus.Collector{newInputCollector(chans), newPipelineCollector(chans), chans.failovers} {
		if err := a.reg.Register(c); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	org, err := origin.New(origin.Config{Window: cfg.Segments.Window, Group: chans.Group}, index, objs, a.log.With("role", "origin"), a.reg)
	if err != nil {
		return err
	}
	tenants := tenant.New(st.JetStream(), tenant.Config{}, a.log)
	api, err := control.New(control.Config{Token: cfg.HTTP.APIToken, Tenants: tenants, PolicyFile: cfg.HTTP.PolicyFile}, chans, a.log, a.reg)
	if err != nil {
		return err
	}

	// Listeners: bind everything before serving so failures are early
	// and clear.
	var addrs Addrs
	var closers []func()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	pub, err := listenPublic(cfg.HTTP.Listen, cfg.Edge, a.log.With("role", "http"), a.reg)
	if err != nil {
		return err
	}
	closers = append(closers, pub.close)
	addrs.HTTP, addrs.HTTPS = pub.addrs()
	// Playback goes through the built-in edge unless it is disabled.
	var playback http.Handler = org.Handler()
	var edgeTier *originEdge
	viewerAccess := acc.edgeAccess()
	if cfg.HTTP.OriginSecret != "" {
		// Only the edge tier reaches /live/ here, and it has checked the
		// viewer's token (the token never travels upstream).
		a.log.Info("playback needs the edge tier's secret: tokens, geo rules and session revocation are the edge tier's to check")
		viewerAccess = nil
	}
	if cfg.Edge.Enabled {
		if edgeTier, err = listenOriginEdge(cfg, playback, viewerAccess, alarmEvents("serve "+cfg.HTTP.Listen, func(e store.Event) error {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			return st.PublishEvent(pctx, e)
		}, a.log), a.log, a.reg); err != nil {
			return err
		}
		closers = append(closers, edgeTier.Close)
		playback = edgeTier.Handler()
	} else {
		// No edge: the origin checks the tokens itself.
		if viewerAccess != nil {
			playback = viewerAccess.Gate(playback, func(reason string) {
				a.log.Debug("access denied", "reason", reason)
			})
		}
	}

	var rtmpSrv *rtmp.Server
	var rtmpLn, rtmpsLn net.Listener
	if cfg.RTMP.Listen != "" {
		rtmpSrv, err = rtmp.New(rtmp.Config{Limits: ingest.Limits{ReadTimeout: cfg.RTMP.ReadTimeout}}, chans, a.log, a.reg)
		if err != nil {
			return err
		}
		if rtmpLn, err = net.Listen("tcp", cfg.RTMP.Listen); err != nil {
			return fmt.Errorf("rtmp listen %s: %w", cfg.RTMP.Listen, err)
		}
		closers = append(closers, func() { rtmpLn.Close() })
		addrs.RTMP = rtmpLn.Addr()
		chans.rtmpAddr = addrs.RTMP
		if cfg.RTMP.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(cfg.RTMP.CertFile, cfg.RTMP.KeyFile)
			if err != nil {
				return fmt.Errorf("rtmps certificate: %w", err)
			}
			ln, err := net.Listen("tcp", cfg.RTMP.TLSListen)
			if err != nil {
				return fmt.Errorf("rtmps listen %s: %w", cfg.RTMP.TLSListen, err)
			}
			rtmpsLn = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
			closers = append(closers, func() { rtmpsLn.Close() })
			addrs.RTMPS = ln.Addr()
		}
	}
	var srtSrv *srt.Server
	if cfg.SRT.Listen != "" {
		srtSrv, err = srt.New(srt.Config{Addr: cfg.SRT.Listen, Latency: cfg.SRT.Latency, Limits: ingest.Limits{ReadTimeout: cfg.SRT.ReadTimeout}}, chans, a.log, a.reg)
		if err != nil {
			return err
		}
		if err := srtSrv.Listen(); err != nil {
			return fmt.Errorf("srt listen %s: %w", cfg.SRT.Listen, err)
		}
		addrs.SRT = srtSrv.Addr()
		chans.srtAddr = addrs.SRT
	}

	mux := http.NewServeMux()
	if cfg.HTTP.OriginSecret != "" {
		refused := prometheus.NewCounter(prometheus.CounterOpts{
			Name: "onair_origin_secret_refused_total",
			Help: "Playback requests refused because they lacked the edge tier's shared secret (http.origin_secret).",
		})
		if err := a.reg.Register(refused); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		playback = originSecretGate(cfg.HTTP.OriginSecret, playback, refused)
	}
	mux.Handle("/live/", playback)
	mux.Handle("/time", org.Handler()) // never cached: clients set their clocks by it
	mux.Handle(license.DefaultPrefix, keys.handler)
	mux.Handle("/metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if !st.Healthy() {
			http.Error(w, "state store not connected", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	prov, err := keys.spekeProvider(cfg, st, a.log.With("role", "speke"), a.reg)
	if err != nil {
		return err
	}
	mux.Handle("/api/v1/speke", prov)
	mux.Handle("/", api.Handler())
	var public http.Handler = mux
	var fw *waf.WAF
	if cfg.WAF.Enabled {
		if fw, err = newWAF(cfg.WAF, acc.verifier.ClientIP, a.log, a.reg); err != nil {
			return err
		}
		public = fw.Middleware(mux)
	}
	srv := publicServer(canonicalPaths(public), cfg.Edge, pub.certs, a.log)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return pkg.Run(gctx) })
	g.Go(func() error { return chans.run(gctx) })
	g.Go(func() error { return sess.run(gctx) })
	g.Go(func() error {
		for {
			select {
			case <-gctx.Done():
				return nil
			case <-a.opts.Reload:
				acc.reloadGeo(cfg.Edge.GeoDatabase, a.log)
			}
		}
	})
	if fw != nil {
		g.Go(func() error { return fw.Run(gctx) })
	}
	if edgeTier != nil {
		g.Go(func() error { return edgeTier.Run(gctx) })
	}
	pub.serve(g, srv, "public")
	g.Go(func() error {
		<-gctx.Done()
		return shutdown(srv, a.log)
	})
	if rtmpSrv != nil {
		g.Go(func() error { return rtmpSrv.Serve(gctx, rtmpLn) })
		if rtmpsLn != nil {
			g.Go(func() error { return rtmpSrv.Serve(gctx, rtmpsLn) })
		}
	}
	if srtSrv != nil {
		g.Go(func() error { return srtSrv.Serve(gctx) })
	}
	a.log.Info("onair is up", "http", addrs.HTTP.String(), "https", addrString(addrs.HTTPS), "edge", cfg.Edge.Enabled, "rtmp", addrString(addrs.RTMP), "rtmps", addrString(addrs.RTMPS), "srt", addrString(addrs.SRT), "data", cfg.DataDir)
	if a.opts.Demo {
		g.Go(func() error { return runDemo(gctx, cfg.Transcode.FFmpeg, chans, addrs, a.log.With("role", "demo")) })
	}
	if a.opts.Ready != nil {
		a.opts.Ready(addrs)
	}
	return g.Wait()
}

func addrString(a net.Addr) string {
	if a == nil {
		return "off"
	}
	return a.String()
}
