// Command onair is a self-hosted live adaptive-bitrate streaming server:
// RTMP/SRT in, a keyframe-aligned ABR ladder, CMAF, HLS + LL-HLS + DASH out.
//
//	onair serve [--demo] [--config onair.yaml] [--data DIR]
//	onair channel create|list|show|start|stop|delete ...
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"onair/internal/app"
	"onair/internal/config"
	"onair/internal/control"
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
	root.AddCommand(serveCommand(), control.Command(), &cobra.Command{
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
		cfgPath, dataDir, httpAddr, rtmpAddr, srtAddr, logLevel string
		demo                                                    bool
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
