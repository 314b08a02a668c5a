package tenant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the JetStream KV bucket holding tenants and key records.
const Bucket = "onair_tenants"

// Errors callers branch on. Every error returned wraps at most one of them;
// others are storage failures (answer 503, not 401).
var (
	// ErrNotFound: no such tenant or key.
	ErrNotFound = errors.New("not found")
	// ErrExists: a tenant with that id exists.
	ErrExists = errors.New("already exists")
	// ErrInvalid: a bad tenant id, name, role or description.
	ErrInvalid = errors.New("invalid")
	// ErrHasKeys: DeleteTenant on a tenant with unrevoked keys.
	ErrHasKeys = errors.New("tenant has active api keys")
	// ErrMalformed: a presented key is not onair_<keyid>_<secret>.
	ErrMalformed = errors.New("malformed api key")
	// ErrUnknownKey: no key with that id, or the secret does not match.
	ErrUnknownKey = errors.New("unknown api key")
	// ErrRevoked: the key (or its tenant) was revoked or deleted.
	ErrRevoked = errors.New("api key revoked")
)

// Config tunes a Store; the zero value is ready to use.
type Config struct {
	// CacheTTL is how long Authenticate trusts a verified key without
	// rereading its record: the bound on how late a revocation made on
	// another node takes effect here. Default 5 s; negative disables the
	// cache.
	CacheTTL time.Duration
	// CacheSize is the most keys remembered at once. Default 1024.
	CacheSize int
	// Replicas of the bucket on a NATS cluster. Default 1.
	Replicas int
	// Now is the clock, for tests. Default time.Now.
	Now func() time.Time
}

// Defaults.
const (
	DefaultCacheTTL  = 5 * time.Second
	DefaultCacheSize = 1024
)

// Store keeps tenants and API keys in JetStream KV.
type Store struct {
	js    jetstream.JetStream
	cfg   Config
	log   *slog.Logger
	cache *verifiedCache

	mu sync.Mutex // guards kv: bound on first use
	kv jetstream.KeyValue
}

// New returns a Store on js. It does no I/O: the bucket is created (or
// bound, if it exists) by the first call that needs it.
func New(js jetstream.JetStream, cfg Config, log *slog.Logger) *Store {
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{js: js, cfg: cfg, log: log, cache: newVerifiedCache(cfg.CacheTTL, cfg.CacheSize)}
}

// bucket returns the KV bucket, creating it on first use. A failure is not
// remembered: the next call tries again.
func (s *Store) bucket(ctx context.Context) (jetstream.KeyValue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kv != nil {
		return s.kv, nil
	}
	kv, err := s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      Bucket,
		Description: "onair tenants and api key records (secrets are stored hashed)",
		History:     1,
		Replicas:    s.cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("tenant: bucket %s: %w", Bucket, err)
	}
	s.kv = kv
	return kv, nil
}

// listKeys returns the KV keys under prefix ("tenant." or "apikey.").
func (s *Store) listKeys(ctx context.Context, prefix string) ([]string, error) {
	kv, err := s.bucket(ctx)
	if err != nil {
		return nil, err
	}
	l, err := kv.ListKeysFiltered(ctx, prefix+">")
	if err != nil {
		return nil, fmt.Errorf("tenant: list %s*: %w", prefix, err)
	}
	var out []string
	for k := range l.Keys() { // closed when every key was seen, or on ctx end
		out = append(out, k)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("tenant: list %s*: %w", prefix, err)
	}
	return out, nil
}
