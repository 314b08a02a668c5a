package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"onair/internal/media"
)

// ErrNotFound is returned for a missing channel.
var ErrNotFound = errors.New("not found")

// ErrExists is returned when creating a channel whose name is taken.
var ErrExists = errors.New("already exists")

// Config selects the NATS deployment.
type Config struct {
	// URL of an external NATS cluster with JetStream; "" embeds a server.
	URL string
	// Dir is the embedded server's JetStream directory.
	Dir string
}

// Store is onair's state store.
type Store struct {
	ns       *server.Server
	nc       *nats.Conn
	js       jetstream.JetStream
	events   jetstream.Stream
	channels jetstream.KeyValue
	runtime  jetstream.KeyValue
}

// Open connects to (or starts) NATS and opens the buckets. Close releases
// everything.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Store, error) {
	s := &Store{}
	var opts []nats.Option
	url := cfg.URL
	if url == "" {
		ns, err := server.NewServer(&server.Options{
			ServerName: "onair-embedded",
			DontListen: true,
			JetStream:  true,
			StoreDir:   filepath.Join(cfg.Dir, "jetstream"),
			NoSigs:     true,
			NoLog:      true,
		})
		if err != nil {
			return nil, fmt.Errorf("store: embedded nats: %w", err)
		}
		ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			ns.Shutdown()
			return nil, errors.New("store: embedded nats did not start within 10s")
		}
		s.ns = ns
		opts = append(opts, nats.InProcessServer(ns))
		url = ns.ClientURL()
	}
	opts = append(opts, nats.Name("onair"), nats.MaxReconnects(-1))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("store: connect %s: %w", url, err)
	}
	s.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("store: jetstream: %w", err)
	}
	s.js = js
	if s.events, err = openEvents(ctx, js); err != nil {
		s.Close()
		return nil, err
	}
	if s.channels, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "onair_channels", History: 1, Description: "onair channel configuration"}); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: bucket onair_channels: %w", err)
	}
	if s.runtime, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "onair_runtime", History: 1, Description: "onair channel runtime state"}); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: bucket onair_runtime: %w", err)
	}
	if log != nil {
		log.Debug("state store open", "role", "store", "embedded", s.ns != nil)
	}
	return s, nil
}

// Close disconnects and stops the embedded server.
func (s *Store) Close() {
	if s.nc != nil {
		s.nc.Close()
	}
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	}
}

// JetStream returns the JetStream context, for roles that keep their own
// buckets (content keys, tenants).
func (s *Store) JetStream() jetstream.JetStream { return s.js }

// Healthy reports whether the NATS connection is up.
func (s *Store) Healthy() bool { return s.nc != nil && s.nc.IsConnected() }

// Channel is a channel's persisted configuration.
type Channel struct {
	Name string `json:"name"`
	// Tenant owns the channel ("" for the operator's own).
	Tenant    string `json:"tenant,omitempty"`
	StreamKey string `json:"stream_key"`
	// BackupStreamKey publishes to the channel's backup input (RTMP key,
	// SRT stream id); the SRT passphrase is shared.
	BackupStreamKey string    `json:"backup_stream_key,omitempty"`
	SRTPassphrase   string    `json:"srt_passphrase"`
	Enabled         bool      `json:"enabled"`
	LowLatency      bool      `json:"low_latency,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	// Pipelines is "standard" (two output-locked pipelines, A and B) or
	// "single" ("" means single).
	Pipelines string `json:"pipelines,omitempty"`
	// Inputs overrides the server's input rules for this channel.
	Inputs InputSettings `json:"inputs,omitzero"`
	// Access is "signed" when playback needs a signed token ("" public).
	Access string `json:"access,omitempty"`
	// Geo restricts playback by the viewer's country.
	Geo GeoRule `json:"geo,omitzero"`
	// DRM is the channel's encryption; the zero value is clear.
	DRM DRMSettings `json:"drm,omitzero"`
}

// DRMSettings choose a channel's encryption.
type DRMSettings struct {
	// Scheme is "aes128", "cbcs" or "cenc" ("" clear).
	Scheme string `json:"scheme,omitempty"`
	// RotateEvery is the key period in segments (0: one key).
	RotateEvery int64 `json:"rotate_every,omitempty"`
}

// GeoRule is a channel's country restriction (see internal/geo.Rule).
type GeoRule struct {
	Allow   []string `json:"allow,omitempty"`
	Deny    []string `json:"deny,omitempty"`
	Unknown string   `json:"unknown,omitempty"`
}

// InputSettings override the server's input configuration for one
// channel; zero fields keep the server's values.
type InputSettings struct {
	LossAfter   time.Duration `json:"loss_after,omitempty"`
	ClearAfter  time.Duration `json:"clear_after,omitempty"`
	BlackAfter  time.Duration `json:"black_after,omitempty"`
	FrozenAfter time.Duration `json:"frozen_after,omitempty"`
	SilentAfter time.Duration `json:"silent_after,omitempty"`
	// Slate is "on", "off" or "" (the server's choice).
	Slate     string `json:"slate,omitempty"`
	SlateText string `json:"slate_text,omitempty"`
}

// CreateChannel stores a new channel; ErrExists if the name is taken.
func (s *Store) CreateChannel(ctx context.Context, c Channel) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("store: encode channel %s: %w", c.Name, err)
	}
	if _, err := s.channels.Create(ctx, c.Name, b); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("channel %s: %w", c.Name, ErrExists)
		}
		return fmt.Errorf("store: create channel %s: %w", c.Name, err)
	}
	return nil
}

// PutChannel stores a channel, replacing any previous version.
func (s *Store) PutChannel(ctx context.Context, c Channel) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("store: encode channel %s: %w", c.Name, err)
	}
	if _, err := s.channels.Put(ctx, c.Name, b); err != nil {
		return fmt.Errorf("store: put channel %s: %w", c.Name, err)
	}
	return nil
}

// GetChannel returns a channel; ErrNotFound if absent.
func (s *Store) GetChannel(ctx context.Context, name string) (Channel, error) {
	e, err := s.channels.Get(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Channel{}, fmt.Errorf("channel %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("store: get channel %s: %w", name, err)
	}
	var c Channel
	if err := json.Unmarshal(e.Value(), &c); err != nil {
		return Channel{}, fmt.Errorf("store: decode channel %s: %w", name, err)
	}
	return c, nil
}

// ListChannels returns every channel, in key order.
func (s *Store) ListChannels(ctx context.Context) ([]Channel, error) {
	keys, err := s.channels.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: list channels: %w", err)
	}
	out := make([]Channel, 0, len(keys))
	for _, k := range keys {
		c, err := s.GetChannel(ctx, k)
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// DeleteChannel removes a channel and its runtime state.
func (s *Store) DeleteChannel(ctx context.Context, name string) error {
	if _, err := s.GetChannel(ctx, name); err != nil {
		return err
	}
	if err := s.channels.Purge(ctx, name); err != nil {
		return fmt.Errorf("store: delete channel %s: %w", name, err)
	}
	if err := s.runtime.Purge(ctx, epochKey(name)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("store: delete channel %s runtime: %w", name, err)
	}
	return nil
}

func epochKey(channel string) string { return channel + ".epoch" }

// Epoch returns the channel clock epoch; ok is false when none is stored.
func (s *Store) Epoch(ctx context.Context, channel string) (media.Epoch, bool, error) {
	e, err := s.runtime.Get(ctx, epochKey(channel))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return media.Epoch{}, false, nil
	}
	if err != nil {
		return media.Epoch{}, false, fmt.Errorf("store: get epoch %s: %w", channel, err)
	}
	var t time.Time
	if err := t.UnmarshalText(e.Value()); err != nil {
		return media.Epoch{}, false, fmt.Errorf("store: decode epoch %s: %w", channel, err)
	}
	return media.Epoch{Wall: t}, true, nil
}

// SetEpoch stores the channel clock epoch. The first writer wins: if an
// epoch is already stored it is returned unchanged, so two pipelines can
// never disagree on the channel clock.
func (s *Store) SetEpoch(ctx context.Context, channel string, e media.Epoch) (media.Epoch, error) {
	b, err := e.Wall.UTC().MarshalText()
	if err != nil {
		return media.Epoch{}, fmt.Errorf("store: encode epoch: %w", err)
	}
	if _, err := s.runtime.Create(ctx, epochKey(channel), b); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			cur, ok, gerr := s.Epoch(ctx, channel)
			if gerr != nil {
				return media.Epoch{}, gerr
			}
			if ok {
				return cur, nil
			}
		}
		return media.Epoch{}, fmt.Errorf("store: set epoch %s: %w", channel, err)
	}
	return e, nil
}
