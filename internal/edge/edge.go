package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config tunes an edge. Only Upstreams is required.
type Config struct {
	// Upstreams is the origin group: base URLs (scheme and host, for
	// example http://127.0.0.1:8080); the first is the primary, the rest
	// are secondaries tried in order.
	Upstreams []string
	// UpstreamHeaders are sent with every upstream request and probe,
	// e.g. the origin's shared secret (X-Onair-Origin-Secret).
	UpstreamHeaders http.Header
	// CacheBytes is the memory budget of the cache in bytes. Default
	// 256 MiB. An object larger than an eighth of it is served but not kept.
	CacheBytes int64
	// UpstreamTimeout bounds the wait for an upstream's response head and
	// any stall of its body. Default 10 s.
	UpstreamTimeout time.Duration
	// BlockTimeout replaces UpstreamTimeout for the response head of an
	// LL-HLS blocking playlist reload (_HLS_msn). Default 10 s.
	BlockTimeout time.Duration
	// MaxHeaderBytes is the request header limit Server applies (431
	// beyond it). Default 16 KiB.
	MaxHeaderBytes int
	// MaxURLBytes is the longest request target served (414 beyond it).
	// Default 4 KiB.
	MaxURLBytes int
	// StripParams are query parameters removed from the cache key and
	// from the upstream URL, matched case-insensitively. Default
	// DefaultStripParams. _HLS_msn, _HLS_part and _HLS_skip can not be
	// stripped.
	StripParams []string
	// FailBackAfter is how long a down upstream must pass its probes
	// before it is used again. Default 10 s.
	FailBackAfter time.Duration
	// Now is the clock for ages and freshness; nil means time.Now.
	Now func() time.Time
	// Breaker is the circuit breaker in front of the origin group.
	Breaker BreakerConfig
	// Slate is what viewers of an HLS channel see while the circuit is
	// open.
	Slate SlateConfig
	// SpillDir is a directory for immutable objects (segments, parts,
	// init segments; never manifests) evicted from memory: a memory miss
	// is served from there before going upstream. "" (the default)
	// disables the spill. Run removes earlier spill files from it when it
	// starts; the spill works while Run runs.
	SpillDir string
	// SpillBytes bounds the bytes of the files in SpillDir, least
	// recently used out first. Default 1 GiB when SpillDir is set.
	SpillBytes int64
	// StaleManifestAfter is how long the newest segment or part of a
	// channel's media playlists from one upstream may stay unchanged
	// before the edge asks the next upstream of the group for the same
	// playlist. Default 3 x the playlist's EXT-X-TARGETDURATION.
	StaleManifestAfter time.Duration
	// ManifestAlarmAfter is the manifest age (seconds since the channel's
	// newest segment or part changed) that raises the channel's alarm.
	// Default 2 x the playlist's EXT-X-TARGETDURATION.
	ManifestAlarmAfter time.Duration
	// OnAlarm, if not nil, is called by Run when a channel's manifest
	// alarm is raised or cleared, once per transition, one call at a time
	// and with no lock held: it may be slow.
	OnAlarm func(Alarm)
	// Access, when set, admits only viewers with a valid signed token on
	// the paths it protects (403 otherwise).
	Access *AccessConfig
}

// Defaults for Config's zero fields.
const (
	DefaultCacheBytes      = 256 << 20
	DefaultUpstreamTimeout = 10 * time.Second
	DefaultBlockTimeout    = 10 * time.Second
	DefaultMaxHeaderBytes  = 16 << 10
	DefaultMaxURLBytes     = 4 << 10
	DefaultFailBackAfter   = 10 * time.Second
	DefaultSpillBytes      = 1 << 30
)

// DefaultStripParams returns Config.StripParams' default: parameters that
// identify a viewer or a campaign, never the object.
func DefaultStripParams() []string {
	return []string{
		"onair_token", "token", "session", "sid", "session_id", "sessionid", "auth", "signature", "sig",
		"expires", "hdnts", "hdnea", "policy", "key-pair-id",
		"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
		"_", "cb", "cachebuster",
	}
}

// Edge is a caching reverse proxy in front of an origin group.
type Edge struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	strip   map[string]bool
	group   *group
	metrics *metrics
	ages    *manifestAges
	breaker *breaker
	slates  *slates // nil when Config.Slate.Disabled
	spill   *spill  // nil when Config.SpillDir is ""

	mu    sync.Mutex       // guards cache and fills
	cache *cache           // completed responses
	fills map[string]*fill // in-flight upstream fetches by cache key
}

// New validates cfg and allocates an edge; its metrics are registered on
// reg (nil: not registered). New starts nothing.
func New(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Edge, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	strip := make(map[string]bool, len(cfg.StripParams))
	for _, p := range cfg.StripParams {
		strip[strings.ToLower(p)] = true
	}
	for _, p := range keptParams {
		delete(strip, strings.ToLower(p))
	}
	e := &Edge{
		cfg:   cfg,
		log:   log.With("role", "edge"),
		now:   now,
		strip: strip,
		ages:  newManifestAges(),
		fills: make(map[string]*fill),
	}
	m, err := newMetrics(reg, e)
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	e.metrics = m
	e.cache = newCache(cfg.CacheBytes, m)
	g, err := newGroup(cfg, e.log, now, m)
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	e.group = g
	e.breaker = newBreaker(cfg.Breaker, now, m)
	e.breaker.onOpen = func() {
		e.log.Warn("circuit open: upstreams keep failing; serving cache and slate", "upstreams", cfg.Upstreams)
	}
	if !cfg.Slate.Disabled {
		e.slates = newSlates(cfg.Slate, m)
	}
	e.spill = newSpill(cfg, e.log, m)
	e.cache.spill = e.spill
	g.stored = e.storedObject
	return e, nil
}

func (c *Config) setDefaults() error {
	if len(c.Upstreams) == 0 {
		return errors.New("no upstreams")
	}
	if c.CacheBytes < 0 || c.UpstreamTimeout < 0 || c.BlockTimeout < 0 || c.MaxHeaderBytes < 0 ||
		c.MaxURLBytes < 0 || c.FailBackAfter < 0 || c.SpillBytes < 0 || c.StaleManifestAfter < 0 || c.ManifestAlarmAfter < 0 {
		return errors.New("sizes and durations must not be negative")
	}
	if c.CacheBytes == 0 {
		c.CacheBytes = DefaultCacheBytes
	}
	if c.UpstreamTimeout == 0 {
		c.UpstreamTimeout = DefaultUpstreamTimeout
	}
	if c.BlockTimeout == 0 {
		c.BlockTimeout = DefaultBlockTimeout
	}
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.MaxURLBytes == 0 {
		c.MaxURLBytes = DefaultMaxURLBytes
	}
	if c.FailBackAfter == 0 {
		c.FailBackAfter = DefaultFailBackAfter
	}
	if c.SpillDir != "" && c.SpillBytes == 0 {
		c.SpillBytes = DefaultSpillBytes
	}
	if err := c.Breaker.setDefaults(); err != nil {
		return err
	}
	if c.StripParams == nil {
		c.StripParams = DefaultStripParams()
	}
	return nil
}

// Handler returns the proxy handler; mount it where playback paths reach
// it unchanged (the path is forwarded as is).
func (e *Edge) Handler() http.Handler { return http.HandlerFunc(e.serveHTTP) }

// Run probes down upstreams (and upstreams with stale manifests), writes
// the disk spill and checks manifest alarms until ctx is canceled, then
// returns nil.
func (e *Edge) Run(ctx context.Context) error {
	defer e.group.client.CloseIdleConnections()
	var wg sync.WaitGroup
	wg.Go(func() { e.spill.run(ctx) })
	wg.Go(func() { e.alarmLoop(ctx) })
	wg.Go(func() { e.probeLoop(ctx) })
	if e.slates != nil {
		wg.Go(func() { e.slates.run(ctx, e.log.Warn) })
	}
	e.group.probeLoop(ctx)
	wg.Wait()
	return nil
}

// Server returns an http.Server for handler with the limits an edge needs
// facing viewers: ReadHeaderTimeout 5 s (a client that never finishes its
// request head is cut: slowloris), IdleTimeout 120 s, MaxHeaderBytes from
// the config (431 beyond it). There is no WriteTimeout: a long blocking
// reload or a slow viewer on a large segment is legitimate, and every
// wait watches the request context. Set Addr or call Serve with a
// listener; for HTTP/2, configure TLS (Go negotiates h2 over TLS).
func (e *Edge) Server(handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    e.cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelDebug),
	}
}

// dialer is shared by the upstream transport and the TCP probes.
func newDialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
}
