package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"onair/internal/media"
)

// Config is the whole configuration of one onair process.
type Config struct {
	// DataDir holds embedded NATS state and, by default, media objects.
	// Default "./data".
	DataDir string `yaml:"data_dir"`
	// Log configures logging.
	Log Log `yaml:"log"`
	// HTTP is the playback, API, dashboard and metrics listener.
	HTTP HTTP `yaml:"http"`
	// RTMP ingest.
	RTMP RTMP `yaml:"rtmp"`
	// SRT ingest.
	SRT SRT `yaml:"srt"`
	// NATS selects the state store.
	NATS NATS `yaml:"nats"`
	// Storage selects where media objects go.
	Storage Storage `yaml:"storage"`
	// Segments configures the channel clock grid and the live window.
	Segments Segments `yaml:"segments"`
	// Transcode configures the ffmpeg transcoder and the ladder.
	Transcode Transcode `yaml:"transcode"`
	// Edge configures the caching edge and the viewer-facing listeners.
	Edge Edge `yaml:"edge"`
	// Inputs configures primary/backup input failover and the slate.
	Inputs Inputs `yaml:"inputs"`
	// Pipelines configures redundant pipelines and failover.
	Pipelines Pipelines `yaml:"pipelines"`
	// Signing configures signed playback tokens.
	Signing Signing `yaml:"signing"`
	// DRM configures content keys and the license endpoint.
	DRM DRM `yaml:"drm"`
	// WAF configures the web application firewall of the public port.
	WAF WAF `yaml:"waf"`
	// Sessions configures viewer sessions.
	Sessions Sessions `yaml:"sessions"`
}

// Log configures log/slog output.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error; default info
	Format string `yaml:"format"` // text or json; default text
}

// HTTP configures the HTTP listener.
type HTTP struct {
	// Listen address. Default ":8080".
	Listen string `yaml:"listen"`
	// APIToken is the operator token. Empty (default): the API and
	// dashboard answer loopback clients only. Set: every API call needs
	// "Authorization: Bearer <token>".
	APIToken string `yaml:"api_token"`
	// PublicHost is the host (no scheme, no port) put in ingest URLs;
	// default: the host the API request came to.
	PublicHost string `yaml:"public_host"`
	// PolicyFile adds Cedar authorization policies (each with an @id) to
	// the built-in ones that decide what tenant API keys may do; see
	// docs/TENANTS.md. Default none.
	PolicyFile string `yaml:"policy_file"`
	// OriginSecret, when set, makes playback requests (/live/) on this
	// port need the header X-Onair-Origin-Secret with this value, which
	// `onair edge` sends (edge.origin_secret): only the edge tier reaches
	// the origin. The API, dashboard, license endpoint and /metrics are
	// not affected (edges do not proxy license POSTs).
	OriginSecret string `yaml:"origin_secret"`
}

// RTMP configures RTMP and RTMPS ingest.
type RTMP struct {
	// Listen address, default ":1935"; "" disables RTMP.
	Listen string `yaml:"listen"`
	// TLSListen is the RTMPS address (default ":1936"), used only when
	// CertFile and KeyFile are set.
	TLSListen string `yaml:"tls_listen"`
	CertFile  string `yaml:"cert_file"`
	KeyFile   string `yaml:"key_file"`
	// ReadTimeout cuts a publisher that sends nothing for this long.
	// Default 10s.
	ReadTimeout time.Duration `yaml:"read_timeout"`
}

// SRT configures SRT ingest.
type SRT struct {
	// Listen address, default ":9000"; "" disables SRT.
	Listen string `yaml:"listen"`
	// Latency is the SRT receiver latency. Default 120ms.
	Latency time.Duration `yaml:"latency"`
	// ReadTimeout cuts a publisher that sends nothing for this long.
	// Default 10s.
	ReadTimeout time.Duration `yaml:"read_timeout"`
}

// NATS selects the state store.
type NATS struct {
	// URL of an external NATS cluster with JetStream. Empty (default):
	// an embedded server stores state under DataDir.
	URL string `yaml:"url"`
}

// Storage selects the object store.
type Storage struct {
	// Kind is "fs" (default): files under Dir; or "s3": a bucket of an
	// S3-compatible server, configured by S3.
	Kind string `yaml:"kind"`
	// Dir for kind fs. Default DataDir/media.
	Dir string `yaml:"dir"`
	// S3 configures kind s3.
	S3 S3 `yaml:"s3"`
}

// Segments configures the channel clock grid and retention.
type Segments struct {
	// Duration is D, the segment duration. Default 2s.
	Duration time.Duration `yaml:"duration"`
	// Part is P, the LL-HLS part duration; D must be a multiple. Default 500ms.
	Part time.Duration `yaml:"part"`
	// LowLatencyPart is P for channels with the low-latency profile.
	// Default 200ms.
	LowLatencyPart time.Duration `yaml:"low_latency_part"`
	// Window is the live window in playlists. Default 60s.
	Window time.Duration `yaml:"window"`
	// Retention keeps segments in storage this long after they leave the
	// window, then deletes them. Default 10m.
	Retention time.Duration `yaml:"retention"`
}

// Transcode configures ffmpeg.
type Transcode struct {
	// FFmpeg is the ffmpeg binary. Default "ffmpeg" from PATH.
	FFmpeg string `yaml:"ffmpeg"`
	// Passthrough publishes the source video untouched as rendition
	// "source". Default true.
	Passthrough bool `yaml:"passthrough"`
	// Threads per ffmpeg process, 0 = ffmpeg's choice. Default 0.
	Threads int `yaml:"threads"`
	// Ladder is the ABR ladder; renditions above the source's height or
	// frame rate are dropped per session. Default: 1080p60, 720p60,
	// 480p30, 360p30, 240p30, 160p30.
	Ladder []media.Rendition `yaml:"ladder"`
}

// Default returns the default configuration.
func Default() Config {
	return Config{
		DataDir: "./data",
		Log:     Log{Level: "info", Format: "text"},
		HTTP:    HTTP{Listen: ":8080"},
		RTMP:    RTMP{Listen: ":1935", TLSListen: ":1936", ReadTimeout: 10 * time.Second},
		SRT:     SRT{Listen: ":9000", Latency: 120 * time.Millisecond, ReadTimeout: 10 * time.Second},
		Storage: Storage{Kind: "fs", S3: DefaultS3()},
		Segments: Segments{
			Duration: 2 * time.Second, Part: 500 * time.Millisecond, LowLatencyPart: 200 * time.Millisecond,
			Window: 60 * time.Second, Retention: 10 * time.Minute,
		},
		Transcode: Transcode{FFmpeg: "ffmpeg", Passthrough: true, Ladder: media.DefaultLadder()},
		Edge:      DefaultEdge(),
		Inputs:    DefaultInputs(),
		Pipelines: DefaultPipelines(),
		Signing:   DefaultSigning(),
		DRM:       DefaultDRM(),
		Sessions:  DefaultSessions(),
	}
}

// Load returns the defaults overlaid with the YAML file at path (if not
// empty) and the environment (getenv, usually os.Getenv), validated.
func Load(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		if err := Decode(b, &cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, getenv); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// Decode strictly decodes YAML onto cfg: unknown keys are errors.
func Decode(b []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// envVars lists the supported environment variables and where they go.
func envVars(c *Config) map[string]any {
	return map[string]any{
		"ONAIR_DATA_DIR":                &c.DataDir,
		"ONAIR_LOG_LEVEL":               &c.Log.Level,
		"ONAIR_LOG_FORMAT":              &c.Log.Format,
		"ONAIR_HTTP_LISTEN":             &c.HTTP.Listen,
		"ONAIR_API_TOKEN":               &c.HTTP.APIToken,
		"ONAIR_ORIGIN_SECRET":           &c.HTTP.OriginSecret,
		"ONAIR_EDGE_ORIGIN_SECRET":      &c.Edge.OriginSecret,
		"ONAIR_PUBLIC_HOST":             &c.HTTP.PublicHost,
		"ONAIR_RTMP_LISTEN":             &c.RTMP.Listen,
		"ONAIR_RTMP_TLS_LISTEN":         &c.RTMP.TLSListen,
		"ONAIR_RTMP_CERT_FILE":          &c.RTMP.CertFile,
		"ONAIR_RTMP_KEY_FILE":           &c.RTMP.KeyFile,
		"ONAIR_SRT_LISTEN":              &c.SRT.Listen,
		"ONAIR_NATS_URL":                &c.NATS.URL,
		"ONAIR_STORAGE_KIND":            &c.Storage.Kind,
		"ONAIR_STORAGE_DIR":             &c.Storage.Dir,
		"ONAIR_S3_ENDPOINT":             &c.Storage.S3.Endpoint,
		"ONAIR_S3_BUCKET":               &c.Storage.S3.Bucket,
		"ONAIR_S3_REGION":               &c.Storage.S3.Region,
		"ONAIR_S3_PREFIX":               &c.Storage.S3.Prefix,
		"ONAIR_S3_TLS":                  &c.Storage.S3.TLS,
		"ONAIR_S3_ACCESS_KEY":           &c.Storage.S3.AccessKey,
		"ONAIR_S3_SECRET_KEY":           &c.Storage.S3.SecretKey,
		"ONAIR_SEGMENT_DURATION":        &c.Segments.Duration,
		"ONAIR_PART_DURATION":           &c.Segments.Part,
		"ONAIR_FFMPEG":                  &c.Transcode.FFmpeg,
		"ONAIR_TRANSCODE_THREADS":       &c.Transcode.Threads,
		"ONAIR_EDGE_ENABLED":            &c.Edge.Enabled,
		"ONAIR_EDGE_LISTEN":             &c.Edge.Listen,
		"ONAIR_EDGE_UPSTREAMS":          &c.Edge.Upstreams,
		"ONAIR_EDGE_CACHE_MIB":          &c.Edge.CacheMiB,
		"ONAIR_EDGE_TLS_LISTEN":         &c.Edge.TLSListen,
		"ONAIR_EDGE_CERT_FILE":          &c.Edge.CertFile,
		"ONAIR_EDGE_KEY_FILE":           &c.Edge.KeyFile,
		"ONAIR_EDGE_MAX_CONNS":          &c.Edge.MaxConns,
		"ONAIR_EDGE_SPILL_DIR":          &c.Edge.SpillDir,
		"ONAIR_INPUT_LOSS_AFTER":        &c.Inputs.LossAfter,
		"ONAIR_INPUT_CLEAR_AFTER":       &c.Inputs.ClearAfter,
		"ONAIR_SLATE_IMAGE":             &c.Inputs.SlateImage,
		"ONAIR_SLATE_TEXT":              &c.Inputs.SlateText,
		"ONAIR_SLATE":                   &c.Inputs.Slate,
		"ONAIR_INPUT_BLACK_AFTER":       &c.Inputs.BlackAfter,
		"ONAIR_INPUT_FROZEN_AFTER":      &c.Inputs.FrozenAfter,
		"ONAIR_INPUT_SILENT_AFTER":      &c.Inputs.SilentAfter,
		"ONAIR_PIPELINES_MODE":          &c.Pipelines.Mode,
		"ONAIR_PIPELINES_ALARM_AFTER":   &c.Pipelines.AlarmAfter,
		"ONAIR_PIPELINES_AUTO_FAILOVER": &c.Pipelines.AutoFailover,
		"ONAIR_EDGE_SPILL_MIB":          &c.Edge.SpillMiB,
		"ONAIR_EDGE_SLATE_IMAGE":        &c.Edge.SlateImage,
		"ONAIR_EDGE_SLATE_TEXT":         &c.Edge.SlateText,
		"ONAIR_EDGE_EVENTS_URL":         &c.Edge.EventsURL,
	}
}

// EnvNames returns the supported environment variable names.
func EnvNames() []string {
	var c Config
	var out []string
	for k := range envVars(&c) {
		out = append(out, k)
	}
	return out
}

func applyEnv(c *Config, getenv func(string) string) error {
	if getenv == nil {
		return nil
	}
	var errs []error
	for name, dst := range envVars(c) {
		v := getenv(name)
		if v == "" {
			continue
		}
		switch p := dst.(type) {
		case *string:
			*p = v
		case *time.Duration:
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				continue
			}
			*p = d
		case *int:
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				continue
			}
			*p = n
		case *bool:
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				continue
			}
			*p = b
		case *[]string: // comma-separated
			*p = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: environment: %w", errors.Join(errs...))
	}
	return nil
}

// Grid returns the segment grid for a channel with or without the
// low-latency profile.
func (c *Config) Grid(lowLatency bool) media.Grid {
	g := media.Grid{Segment: c.Segments.Duration, Part: c.Segments.Part}
	if lowLatency {
		g.Part = c.Segments.LowLatencyPart
	}
	return g
}

// MediaDir returns the filesystem storage directory.
func (c *Config) MediaDir() string {
	if c.Storage.Dir != "" {
		return c.Storage.Dir
	}
	return strings.TrimSuffix(c.DataDir, "/") + "/media"
}

// Validate reports every problem with the configuration at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.DataDir == "" {
		bad("data_dir: must not be empty")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format: %q is not text or json", c.Log.Format)
	}
	checkAddr := func(field, addr string, required bool) {
		if addr == "" {
			if required {
				bad("%s: must not be empty", field)
			}
			return
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad("%s: %q is not host:port: %v", field, addr, err)
		}
	}
	checkAddr("http.listen", c.HTTP.Listen, true)
	checkAddr("rtmp.listen", c.RTMP.Listen, false)
	checkAddr("srt.listen", c.SRT.Listen, false)
	if (c.RTMP.CertFile == "") != (c.RTMP.KeyFile == "") {
		bad("rtmp: cert_file and key_file must be set together")
	}
	if c.RTMP.CertFile != "" {
		checkAddr("rtmp.tls_listen", c.RTMP.TLSListen, true)
	}
	if c.RTMP.ReadTimeout < time.Second || c.SRT.ReadTimeout < time.Second {
		bad("rtmp.read_timeout and srt.read_timeout must be at least 1s")
	}
	if c.SRT.Latency < 20*time.Millisecond || c.SRT.Latency > 10*time.Second {
		bad("srt.latency: %v out of range [20ms, 10s]", c.SRT.Latency)
	}
	switch c.Storage.Kind {
	case "fs":
	case "s3":
		c.Storage.S3.validate(bad)
	default:
		bad("storage.kind: %q is not supported (fs, s3)", c.Storage.Kind)
	}
	for _, g := range []media.Grid{c.Grid(false), c.Grid(true)} {
		if err := g.Validate(); err != nil {
			bad("segments: %v", err)
		}
	}
	if c.Segments.Duration < 500*time.Millisecond || c.Segments.Duration > 30*time.Second {
		bad("segments.duration: %v out of range [500ms, 30s]", c.Segments.Duration)
	}
	if c.Segments.Window < 3*c.Segments.Duration {
		bad("segments.window: %v must hold at least 3 segments (%v)", c.Segments.Window, 3*c.Segments.Duration)
	}
	if c.Segments.Retention < 0 {
		bad("segments.retention: must not be negative")
	}
	if c.Transcode.FFmpeg == "" {
		bad("transcode.ffmpeg: must not be empty")
	}
	if c.Transcode.Threads < 0 {
		bad("transcode.threads: must not be negative")
	}
	seen := map[string]bool{}
	for i, r := range c.Transcode.Ladder {
		if err := r.Validate(); err != nil {
			bad("transcode.ladder[%d]: %v", i, err)
		}
		if seen[r.Name] {
			bad("transcode.ladder[%d]: duplicate name %q", i, r.Name)
		}
		seen[r.Name] = true
	}
	c.Edge.validate(bad)
	c.Inputs.validate(bad)
	c.Pipelines.validate(bad)
	c.Signing.validate(bad)
	c.DRM.validate(bad)
	c.WAF.validate(bad)
	c.Sessions.validate(bad)
	if c.Sessions.Enabled && c.Signing.TokenTTL > c.Sessions.TTL {
		bad("signing.token_ttl %s is longer than sessions.ttl %s: a revoked session must outlive its tokens", c.Signing.TokenTTL, c.Sessions.TTL)
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}
