// Command onair is a self-hosted live adaptive-bitrate streaming server:
// RTMP/SRT in, a keyframe-aligned ABR ladder, CMAF, HLS + LL-HLS + DASH out.
//
//	onair serve [--demo] [--config onair.yaml] [--data DIR] [--edge=false]
//	onair edge [--config onair.yaml] --upstream http://origin:8080 [--listen :8081] [--tls-cert F --tls-key F]
//	onair channel create|list|show|start|stop|delete ...
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"

	"onair/internal/app"
	"onair/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	root := &cobra.Command{
		Use:           "onair",
		Short:         "Live adaptive-bitrate streaming: RTMP/SRT in, HLS, LL-HLS and DASH out",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCommand(), edgeCommand(), app.ChannelCommand(), app.TenantCommand(), &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Run:   func(cmd *cobra.Command, args []string) { fmt.Println("onair", version) },
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "onair:", err)
		os.Exit(1)
	}
}

func serveCommand() *cobra.Command {
	var (
		cfgPath, dataDir, httpAddr, rtmpAddr, srtAddr, logLevel, cpuProfile string
		demo, edgeOn                                                        bool
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run every role in one process (ingest, transcode, package, origin, edge, API, dashboard)",
		Long: `Run every role in one process with embedded defaults: state in an embedded
NATS JetStream under the data directory, media objects on the local filesystem.

Viewers reach playback (/live/...) through the built-in edge: a cache in
front of the origin with request collapsing and X-Cache headers, so the
origin makes each object once however many viewers ask (edge.enabled, or
--edge=false, to serve the origin directly). The public port speaks HTTP/1.1
and cleartext HTTP/2 (h2c); with edge.cert_file and edge.key_file, HTTPS with
HTTP/2 on edge.tls_listen as well.

With --demo, a channel named "demo" is created (if missing) and fed by a
synthetic source (test pattern with a burnt-in clock and a tone) published to
this server's own RTMP ingest, exactly like an external encoder.

Configuration: defaults, then --config FILE (YAML, unknown keys are errors),
then ONAIR_* environment variables, then these flags. SIGHUP reloads the
country database (edge.geo_database) from its file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(cfgPath, os.Getenv)
			if err != nil {
				return err
			}
			flags := cmd.Flags()
			if flags.Changed("data") {
				cfg.DataDir = dataDir
			}
			if flags.Changed("http") {
				cfg.HTTP.Listen = httpAddr
			}
			if flags.Changed("rtmp") {
				cfg.RTMP.Listen = rtmpAddr
			}
			if flags.Changed("srt") {
				cfg.SRT.Listen = srtAddr
			}
			if flags.Changed("log-level") {
				cfg.Log.Level = logLevel
			}
			if flags.Changed("edge") {
				cfg.Edge.Enabled = edgeOn
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			log := newLogger(cfg.Log)
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			a, err := app.New(cfg, app.Options{Demo: demo, Reload: hup}, log)
			if err != nil {
				return err
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return fmt.Errorf("cpu profile: %w", err)
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return fmt.Errorf("cpu profile: %w", err)
				}
				defer pprof.StopCPUProfile()
			}
			return a.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfgPath, "config", "", "YAML configuration file")
	f.StringVar(&dataDir, "data", "", "data directory (default ./data)")
	f.StringVar(&httpAddr, "http", "", "HTTP listen address (default :8080)")
	f.StringVar(&rtmpAddr, "rtmp", "", `RTMP listen address (default :1935, "" disables)`)
	f.StringVar(&srtAddr, "srt", "", `SRT listen address (default :9000, "" disables)`)
	f.StringVar(&logLevel, "log-level", "", "debug, info, warn or error (default info)")
	f.BoolVar(&demo, "demo", false, "create and feed the demo channel")
	f.BoolVar(&edgeOn, "edge", true, "answer playback through the built-in edge cache (--edge=false: the origin directly)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile of this process to the file on exit (ffmpeg children not included)")
	return cmd
}

func edgeCommand() *cobra.Command {
	var (
		cfgPath, listen, tlsListen, tlsCert, tlsKey, logLevel string
		upstreams                                             []string
		cacheMiB, maxConns                                    int
	)
	cmd := &cobra.Command{
		Use:   "edge [--config onair.yaml] [--upstream URL]...",
		Short: "Run a caching edge (request collapsing, origin group failover) in front of onair origins",
		Long: `Run a caching reverse proxy for onair's playback URLs, or any HLS/DASH
origin. It obeys the origin's Cache-Control, collapses concurrent requests
for the same object into one upstream fetch (streaming the body to every
waiter as it arrives, LL-HLS blocking reloads included), serves stale
playlists while one refresh is in flight and stale segments when the
upstream fails, and fails over from the first upstream to the next.
An edge can be another edge's upstream (an origin shield).

It serves HTTP/1.1 and cleartext HTTP/2 (h2c, prior knowledge) on --listen,
and HTTPS with HTTP/2 on --tls-listen when --tls-cert and --tls-key are
given. Beyond --max-conns open connections, new ones are closed at once.

Configuration: the edge section of --config FILE (YAML), then ONAIR_EDGE_*
environment variables, then these flags. SIGHUP reads it all again and
applies the upstreams, the cache budget, the connection limit and the
certificate files live, keeping connections and the cache; a configuration
that does not load is refused with a logged error and the running one
stays. Listen addresses, timeouts and header/URL limits change on restart.
SIGTERM or SIGINT stops it gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			flags := cmd.Flags()
			load := func() (config.Config, error) {
				cfg, err := config.Load(cfgPath, os.Getenv)
				if err != nil {
					return cfg, err
				}
				e := &cfg.Edge
				if flags.Changed("listen") {
					e.Listen = listen
				}
				if flags.Changed("upstream") {
					e.Upstreams = upstreams
				}
				if flags.Changed("cache-mib") {
					e.CacheMiB = cacheMiB
				}
				if flags.Changed("tls-listen") {
					e.TLSListen = tlsListen
				}
				if flags.Changed("tls-cert") {
					e.CertFile = tlsCert
				}
				if flags.Changed("tls-key") {
					e.KeyFile = tlsKey
				}
				if flags.Changed("max-conns") {
					e.MaxConns = maxConns
				}
				if flags.Changed("log-level") {
					cfg.Log.Level = logLevel
				}
				return cfg, cfg.Validate()
			}
			cfg, err := load()
			if err != nil {
				return err
			}
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			return app.RunEdge(cmd.Context(), app.EdgeOptions{
				Config: cfg.Edge,
				WAF:    cfg.WAF,
				Reload: hup,
				Load: func() (config.Edge, error) {
					cfg, err := load()
					return cfg.Edge, err
				},
			}, newLogger(cfg.Log))
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfgPath, "config", "", "YAML configuration file (its edge section; re-read on SIGHUP)")
	f.StringVar(&listen, "listen", "", `cleartext HTTP/1.1 and h2c listen address (default :8081, "" disables)`)
	f.StringArrayVar(&upstreams, "upstream", nil, "upstream base URL, e.g. http://127.0.0.1:8080 (repeat: primary first)")
	f.IntVar(&cacheMiB, "cache-mib", 0, "memory cache budget in MiB (default 256)")
	f.StringVar(&tlsListen, "tls-listen", "", "HTTPS listen address, used with --tls-cert and --tls-key (default :8443)")
	f.StringVar(&tlsCert, "tls-cert", "", "PEM certificate (chain) file for HTTPS")
	f.StringVar(&tlsKey, "tls-key", "", "PEM private key file for HTTPS")
	f.IntVar(&maxConns, "max-conns", 0, "open client connections allowed at once (default 10000)")
	f.StringVar(&logLevel, "log-level", "", "debug, info, warn or error (default info)")
	return cmd
}

func newLogger(c config.Log) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
