package origin

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/live"
	"onair/internal/media"
	"onair/internal/objstore"
)

// Config tunes the origin. The zero value is usable.
type Config struct {
	// Window is how much media the playlists and the MPD's time-shift
	// buffer cover. Default 60 s; never less than RFC 8216bis allows
	// (three target durations plus one segment).
	Window time.Duration
	// BlockTimeout bounds how long a blocking playlist reload or a request
	// for a not-yet-existing part or segment is held. Default 3 x the
	// channel's segment duration (RFC 8216bis section 6.2.5.2).
	BlockTimeout time.Duration
	// Group, when set, returns a channel's origin group: its pipelines,
	// active first. nil means every channel has the single pipeline A.
	Group func(channel string) Group
	// LicensePath is the path prefix of the license endpoint that key
	// URIs in playlists and the MPD point at: {LicensePath}/{channel}/
	// aes128/{kid} and {LicensePath}/{channel}/clearkey. Default
	// DefaultLicensePath.
	LicensePath string
	// Now is the clock for MPD publishTime, /time and the manifest-age
	// gauge; nil means time.Now. Tests inject a fixed clock.
	Now func() time.Time
}

// Group is a channel's origin group: the pipelines that package it, in
// the order the origin tries them (live.PipelineID names their index),
// and a channel closed when the group changes, which ends held requests
// on a pipeline that is no longer first so they are served again.
type Group struct {
	Pipelines []string
	Changed   <-chan struct{}
}

// DefaultWindow is Config.Window's default.
const DefaultWindow = 60 * time.Second

// Origin serves HLS, LL-HLS and DASH playback from the live index.
type Origin struct {
	cfg     Config
	index   *live.Index
	store   objstore.Store
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics
}

// New validates cfg and returns an origin reading index and, for objects
// no longer held in memory, store (nil: memory only). Its metrics are
// registered on reg (nil: not registered). New starts nothing.
func New(cfg Config, index *live.Index, store objstore.Store, log *slog.Logger, reg prometheus.Registerer) (*Origin, error) {
	if index == nil {
		return nil, errors.New("origin: live index is nil")
	}
	if cfg.Window < 0 || cfg.BlockTimeout < 0 {
		return nil, fmt.Errorf("origin: window (%v) and block timeout (%v) must not be negative", cfg.Window, cfg.BlockTimeout)
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.LicensePath == "" {
		cfg.LicensePath = DefaultLicensePath
	}
	cfg.LicensePath = strings.TrimSuffix(cfg.LicensePath, "/")
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	if cfg.Group == nil {
		cfg.Group = func(string) Group { return Group{Pipelines: []string{live.PipelineA}} }
	}
	o := &Origin{cfg: cfg, index: index, store: store, log: log, now: now}
	m, err := newMetrics(reg, index, now)
	if err != nil {
		return nil, fmt.Errorf("origin: %w", err)
	}
	o.metrics = m
	return o, nil
}

// Handler returns the playback handler. The app mounts it at "/live/" and
// "/time"; it checks the whole path itself, so it is safe to mount
// anywhere those paths reach it unchanged.
func (o *Origin) Handler() http.Handler { return http.HandlerFunc(o.serveHTTP) }

// blockTimeout returns the hold bound for a channel with grid g.
func (o *Origin) blockTimeout(g media.Grid) time.Duration {
	if o.cfg.BlockTimeout > 0 {
		return o.cfg.BlockTimeout
	}
	return 3 * g.Segment
}

// objectCacheControl is the Cache-Control of segments, parts and init
// segments: D + 10 s, in whole seconds rounded up.
func objectCacheControl(g media.Grid) string {
	age := (g.Segment + 10*time.Second + time.Second - 1) / time.Second
	return fmt.Sprintf("public, max-age=%d", age)
}

// Cache-Control values (see the package doc).
const (
	cachePlaylist = "public, max-age=1"
	cacheNotFound = "public, max-age=1"
	cacheNone     = "no-store"
)
