package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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
	"onair/internal/live"
	"onair/internal/objstore"
	"onair/internal/origin"
	"onair/internal/packager"
	"onair/internal/store"
)

// Options are run-time choices that are not configuration.
type Options struct {
	// Demo creates the channel "demo" and feeds it from a synthetic
	// ffmpeg source published to this server's own RTMP ingest.
	Demo bool
	// Ready, if set, is called once every listener is bound, with the
	// bound addresses.
	Ready func(Addrs)
}

// Addrs are the bound listener addresses.
type Addrs struct {
	HTTP, RTMP, RTMPS, SRT net.Addr
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

	objs, err := objstore.NewFS(cfg.MediaDir())
	if err != nil {
		return err
	}
	index := live.NewIndex(0)
	pkg, err := packager.New(packager.Config{Grid: cfg.Grid(false), Window: cfg.Segments.Window, Retention: cfg.Segments.Retention},
		objs, index, a.log.With("role", "packager"), a.reg)
	if err != nil {
		return err
	}
	org, err := origin.New(origin.Config{Window: cfg.Segments.Window}, index, objs, a.log.With("role", "origin"), a.reg)
	if err != nil {
		return err
	}
	chans := newChannels(cfg, st, objs, index, pkg, a.log, a.reg)
	if err := a.reg.Register(newInputCollector(chans)); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	api, err := control.New(control.Config{Token: cfg.HTTP.APIToken}, chans, a.log, a.reg)
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
	httpLn, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http listen %s: %w", cfg.HTTP.Listen, err)
	}
	closers = append(closers, func() { httpLn.Close() })
	addrs.HTTP = httpLn.Addr()

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
	originH := org.Handler()
	mux.Handle("/live/", originH)
	mux.Handle("/time", originH)
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
	mux.Handle("/", api.Handler())
	srv := &http.Server{
		Handler:           canonicalPaths(mux),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return pkg.Run(gctx) })
	g.Go(func() error { return chans.run(gctx) })
	g.Go(func() error {
		err := srv.Serve(httpLn)
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("http: %w", err)
	})
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
	a.log.Info("onair is up", "http", addrs.HTTP.String(), "rtmp", addrString(addrs.RTMP), "rtmps", addrString(addrs.RTMPS), "srt", addrString(addrs.SRT), "data", cfg.DataDir)
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
