package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"onair/internal/edge"
)

// EdgeOptions configure a standalone edge (`onair edge`).
type EdgeOptions struct {
	// Listen is the HTTP address viewers (or downstream edges) use.
	Listen string
	// Upstreams is the origin group, primary first.
	Upstreams []string
	// CacheBytes is the memory cache budget (0: the edge default).
	CacheBytes int64
	// Ready, if set, is called with the bound address.
	Ready func(net.Addr)
}

// RunEdge runs a caching edge in front of an origin group until ctx ends.
// /metrics, /healthz and /readyz are answered by the edge itself; every
// other path is proxied and cached.
func RunEdge(ctx context.Context, opts EdgeOptions, log *slog.Logger) error {
	if len(opts.Upstreams) == 0 {
		return errors.New("edge: at least one --upstream is required")
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	e, err := edge.New(edge.Config{Upstreams: opts.Upstreams, CacheBytes: opts.CacheBytes}, log.With("role", "edge"), reg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("edge listen %s: %w", opts.Listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	health := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintln(w, "ok")
	}
	mux.HandleFunc("/healthz", health)
	mux.HandleFunc("/readyz", health)
	mux.Handle("/", e.Handler())
	srv := e.Server(canonicalPaths(mux))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return e.Run(gctx) })
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("edge http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		return shutdown(srv, log)
	})
	log.Info("onair edge is up", "role", "edge", "http", ln.Addr().String(), "upstreams", opts.Upstreams)
	if opts.Ready != nil {
		opts.Ready(ln.Addr())
	}
	return g.Wait()
}
