package keystore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"onair/internal/kms"
	"onair/internal/kvscan"
)

// Bucket is the default key-value bucket.
const Bucket = "onair_keys"

// ErrNotFound is returned for a key that is not stored.
var ErrNotFound = errors.New("key not found")

// ErrExists is returned by Put for a key ID that holds another key.
var ErrExists = errors.New("key ID already holds another key")

// Config tunes a Store.
type Config struct {
	// Bucket is the JetStream KV bucket. Default Bucket ("onair_keys").
	Bucket string
	// Replicas of the bucket in a NATS cluster. Default 1.
	Replicas int
	// CacheSize is the number of decrypted keys kept in memory. Default
	// 1024; negative disables the cache.
	CacheSize int
	// CacheTTL is how long a decrypted key stays cached. Default 1m.
	CacheTTL time.Duration
}

// Store keeps sealed content keys in a KV bucket. It is safe for
// concurrent use after Open.
type Store struct {
	js    jetstream.JetStream
	kms   kms.KMS
	cfg   Config
	log   *slog.Logger
	cache *cache
	now   func() time.Time
	kv    jetstream.KeyValue
}

// New validates cfg and allocates a Store; Open creates or opens the
// bucket.
func New(js jetstream.JetStream, k kms.KMS, cfg Config, log *slog.Logger) (*Store, error) {
	if js == nil || k == nil {
		return nil, errors.New("keystore: a JetStream context and a KMS are required")
	}
	if cfg.Bucket == "" {
		cfg.Bucket = Bucket
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 1024
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = time.Minute
	}
	if cfg.Replicas < 0 || cfg.CacheTTL < 0 {
		return nil, fmt.Errorf("keystore: config: replicas %d and cache TTL %v must not be negative", cfg.Replicas, cfg.CacheTTL)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{js: js, kms: k, cfg: cfg, log: log, now: time.Now,
		cache: newCache(cfg.CacheSize, cfg.CacheTTL, time.Now)}, nil
}

// Open creates the bucket, or opens it with the configured settings.
func (s *Store) Open(ctx context.Context) error {
	kv, err := s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      s.cfg.Bucket,
		Description: "onair content keys, sealed by the KMS",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    s.cfg.Replicas,
	})
	if err != nil {
		return fmt.Errorf("keystore: bucket %s: %w", s.cfg.Bucket, err)
	}
	s.kv = kv
	s.log.Debug("keystore open", "bucket", s.cfg.Bucket, "kms", s.kms.Name(), "kek", s.kms.Current())
	return nil
}

// Generate makes a key with a random key ID, key and IV (crypto/rand) and
// stores it.
func (s *Store) Generate(ctx context.Context, channel, scheme string, period int64) (Key, error) {
	kid, err := NewKID()
	if err != nil {
		return Key{}, err
	}
	k := Key{Channel: channel, KID: kid, Value: make([]byte, KeySize), IV: make([]byte, IVSize),
		Scheme: scheme, Period: period, Created: s.now().UTC()}
	if _, err := rand.Read(k.Value); err != nil {
		return Key{}, fmt.Errorf("keystore: generate key: %w", err)
	}
	if _, err := rand.Read(k.IV); err != nil {
		return Key{}, fmt.Errorf("keystore: generate IV: %w", err)
	}
	if err := s.Put(ctx, k); err != nil {
		return Key{}, err
	}
	return k, nil
}

// Put stores a key, sealed. Created is set to now when zero. Storing the
// same key again is a no-op; another key under a stored key ID is refused
// with ErrExists.
func (s *Store) Put(ctx context.Context, k Key) error {
	if s.kv == nil {
		return errors.New("keystore: not open")
	}
	if err := k.Validate(); err != nil {
		return err
	}
	if k.Created.IsZero() {
		k.Created = s.now()
	}
	k.Created = k.Created.UTC().Round(0)
	data, err := s.seal(ctx, k)
	if err != nil {
		return err
	}
	kvk := kvKey(k.Channel, k.KID)
	if _, err := s.kv.Create(ctx, kvk, data); err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("keystore: put key %s of channel %s: %w", k.KID, k.Channel, err)
		}
		old, gerr := s.Get(ctx, k.Channel, k.KID)
		if gerr != nil {
			return fmt.Errorf("keystore: put key %s of channel %s: the key ID is taken: %w", k.KID, k.Channel, gerr)
		}
		if !old.sameSecret(k) {
			return fmt.Errorf("keystore: put key %s of channel %s: %w", k.KID, k.Channel, ErrExists)
		}
		return nil
	}
	s.cache.put(kvk, k)
	return nil
}

// seal encodes k as a record with Value||IV sealed by the KMS.
func (s *Store) seal(ctx context.Context, k Key) ([]byte, error) {
	plain := append(append(make([]byte, 0, len(k.Value)+len(k.IV)), k.Value...), k.IV...)
	blob, err := s.kms.Encrypt(ctx, plain, aad(k.Channel, k.KID, k.Scheme, k.Period))
	clear(plain)
	if err != nil {
		return nil, fmt.Errorf("keystore: seal key %s of channel %s: %w", k.KID, k.Channel, err)
	}
	return encodeRecord(record{Version: recordVersion, Channel: k.Channel, KID: k.KID.String(),
		Scheme: k.Scheme, Period: k.Period, Created: k.Created, Sealed: blob})
}

func encodeRecord(r record) ([]byte, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("keystore: encode key %s: %w", r.KID, err)
	}
	return data, nil
}

// open decodes a stored record and unseals its key.
func (s *Store) open(ctx context.Context, kvk string, data []byte) (Key, error) {
	r, kid, err := decodeRecord(kvk, data)
	if err != nil {
		return Key{}, err
	}
	plain, err := s.kms.Decrypt(ctx, r.Sealed, aad(r.Channel, kid, r.Scheme, r.Period))
	if err != nil {
		return Key{}, fmt.Errorf("keystore: key %s of channel %s: %w", r.KID, r.Channel, err)
	}
	k := Key{Channel: r.Channel, KID: kid, Scheme: r.Scheme, Period: r.Period, Created: r.Created}
	switch n := len(plain); n {
	case KeySize, KeySize + 8, KeySize + 16:
		k.Value, k.IV = plain[:KeySize:KeySize], bytes.Clone(plain[KeySize:])
		if len(k.IV) == 0 {
			k.IV = nil
		}
	default:
		clear(plain)
		return Key{}, fmt.Errorf("keystore: key %s of channel %s: sealed %d bytes, want %d, %d or %d", r.KID, r.Channel, n, KeySize, KeySize+8, KeySize+16)
	}
	return k, nil
}

// Get returns a channel's key by key ID; errors wrap ErrNotFound, or the
// KMS's error when the key cannot be unsealed (kms.ErrUnknownKEK,
// kms.ErrDecrypt).
func (s *Store) Get(ctx context.Context, channel string, kid KID) (Key, error) {
	if s.kv == nil {
		return Key{}, errors.New("keystore: not open")
	}
	if !validChannel(channel) {
		return Key{}, fmt.Errorf("keystore: channel %q is not 1-64 of [A-Za-z0-9_-]", channel)
	}
	kvk := kvKey(channel, kid)
	if k, ok := s.cache.get(kvk); ok {
		return k, nil
	}
	e, err := s.kv.Get(ctx, kvk)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Key{}, fmt.Errorf("keystore: key %s of channel %s: %w", kid, channel, ErrNotFound)
	}
	if err != nil {
		return Key{}, fmt.Errorf("keystore: get key %s of channel %s: %w", kid, channel, err)
	}
	k, err := s.open(ctx, kvk, e.Value())
	if err != nil {
		return Key{}, err
	}
	s.cache.put(kvk, k)
	return k, nil
}

// List returns a channel's keys, oldest period first (newest last; ties by
// creation time, then key ID). A channel without keys gives none.
func (s *Store) List(ctx context.Context, channel string) ([]Key, error) {
	if !validChannel(channel) {
		return nil, fmt.Errorf("keystore: channel %q is not 1-64 of [A-Za-z0-9_-]", channel)
	}
	var keys []Key
	err := s.each(ctx, channel+".*", func(e jetstream.KeyValueEntry) error {
		k, ok := s.cache.get(e.Key())
		if !ok {
			var err error
			if k, err = s.open(ctx, e.Key(), e.Value()); err != nil {
				return err
			}
			s.cache.put(e.Key(), k)
		}
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(keys, func(a, b Key) int {
		if a.Period != b.Period {
			return cmpInt(a.Period, b.Period)
		}
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return bytes.Compare(a.KID[:], b.KID[:])
	})
	return keys, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// At returns the key that applies to segment: the newest key whose Period
// is at most segment. ErrNotFound when there is none.
func (s *Store) At(ctx context.Context, channel string, segment int64) (Key, error) {
	keys, err := s.List(ctx, channel)
	if err != nil {
		return Key{}, err
	}
	for i := len(keys) - 1; i >= 0; i-- {
		if keys[i].Period <= segment {
			return keys[i], nil
		}
	}
	return Key{}, fmt.Errorf("keystore: channel %s has no key for segment %d: %w", channel, segment, ErrNotFound)
}

// DeleteChannel removes every key of a channel (purged from the bucket).
func (s *Store) DeleteChannel(ctx context.Context, channel string) error {
	if !validChannel(channel) {
		return fmt.Errorf("keystore: channel %q is not 1-64 of [A-Za-z0-9_-]", channel)
	}
	var names []string
	err := s.each(ctx, channel+".*", func(e jetstream.KeyValueEntry) error {
		names = append(names, e.Key())
		return nil
	}, jetstream.MetaOnly())
	s.cache.forget(channel + ".")
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := s.kv.Purge(ctx, n); err != nil {
			return fmt.Errorf("keystore: delete key %s: %w", n, err)
		}
	}
	s.cache.forget(channel + ".")
	s.log.Info("keystore: channel keys deleted", "channel", channel, "keys", len(names))
	return nil
}

// Rewrap re-seals every stored key that is not under the KMS's current
// KEK and returns how many it rewrote; afterwards older KEKs can be
// retired. A record changed meanwhile by another process is left alone.
func (s *Store) Rewrap(ctx context.Context) (int, error) {
	n := 0
	err := s.each(ctx, ">", func(e jetstream.KeyValueEntry) error {
		r, kid, err := decodeRecord(e.Key(), e.Value())
		if err != nil {
			return err
		}
		if b, _ := kms.ParseBlob(r.Sealed); b.Backend == s.kms.Name() && b.KEKID == s.kms.Current() {
			return nil
		}
		if r.Sealed, err = s.kms.Rewrap(ctx, r.Sealed, aad(r.Channel, kid, r.Scheme, r.Period)); err != nil {
			return fmt.Errorf("keystore: rewrap key %s of channel %s: %w", r.KID, r.Channel, err)
		}
		data, err := encodeRecord(r)
		if err != nil {
			return err
		}
		if _, err := s.kv.Update(ctx, e.Key(), data, e.Revision()); err != nil {
			if errors.Is(err, jetstream.ErrKeyExists) {
				s.log.Warn("keystore: key changed during rewrap, left alone", "key", e.Key())
				return nil
			}
			return fmt.Errorf("keystore: rewrap key %s of channel %s: %w", r.KID, r.Channel, err)
		}
		n++
		return nil
	})
	if n > 0 {
		s.log.Info("keystore: keys rewrapped", "keys", n, "kek", s.kms.Current())
	}
	return n, err
}

// each calls fn for every live entry whose key matches filter, as the
// bucket holds them now.
func (s *Store) each(ctx context.Context, filter string, fn func(jetstream.KeyValueEntry) error, opts ...jetstream.WatchOpt) error {
	if s.kv == nil {
		return errors.New("keystore: not open")
	}
	return kvscan.Each(ctx, s.kv, filter, fn, opts...)
}
