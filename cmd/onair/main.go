// Command onair is a self-hosted live adaptive-bitrate streaming server:
// RTMP/SRT in, a keyframe-aligned ABR ladder, CMAF, HLS + LL-HLS + DASH out.
//
//	onair serve [--demo] [--config onair.yaml] [--data DIR]
//	onair edge --upstream http://origin:8080 [--listen :8081]
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
	root.AddCommand(serveCommand(), edgeCommand(), app.ChannelCommand(), &cobra.Command{
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
		demo                                                                bool
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run every role in one process (ingest, transcode, package, origin, API, dashboard)",
		Long: `Run every role in one process with embedded defaults: state in an embedded
NATS JetStream under the data directory, media objects on the local filesystem.

With --demo, a channel named "demo" is created (if missing) and fed by a
synthetic source (test pattern with a burnt-in clock and a tone) published to
this server's own RTMP ingest, exactly like an external encoder.

Configuration: defaults, then --config FILE (YAML, unknown keys are errors),
then ONAIR_* environment variables, then these flags.`,
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
			if err := cfg.Validate(); err != nil {
				return err
			}
			log := newLogger(cfg.Log)
			a, err := app.New(cfg, app.Options{Demo: demo}, log)
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
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile of this process to the file on exit (ffmpeg children not included)")
	return cmd
}

func edgeCommand() *cobra.Command {
	var (
		listen, logLevel string
		upstreams        []string
		cacheMiB         int64
	)
	cmd := &cobra.Command{
		Use:   "edge --upstream URL [--upstream URL]...",
		Short: "Run a caching edge (request collapsing, origin group failover) in front of onair origins",
		Long: `Run a caching reverse proxy for onair's playback URLs, or any HLS/DASH
origin. It obeys the origin's Cache-Control, collapses concurrent requests
for the same object into one upstream fetch (streaming the body to every
waiter as it arrives, LL-HLS blocking reloads included), serves stale
playlists while one refresh is in flight and stale segments when the
upstream fails, and fails over from the first --upstream to the next.
An edge can be another edge's upstream (an origin shield).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lvl := config.Default().Log
			if logLevel != "" {
				lvl.Level = logLevel
			}
			log := newLogger(lvl)
			return app.RunEdge(cmd.Context(), app.EdgeOptions{
				Listen:     listen,
				Upstreams:  upstreams,
				CacheBytes: cacheMiB << 20,
			}, log)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", ":8081", "HTTP listen address")
	f.StringArrayVar(&upstreams, "upstream", nil, "upstream base URL, e.g. http://127.0.0.1:8080 (repeat: primary first)")
	f.Int64Var(&cacheMiB, "cache-mib", 256, "memory cache budget in MiB")
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
