package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/kms"
)

// Store keeps viewer sessions in JetStream KV. It is safe for concurrent
// use. New does no I/O: the buckets are created (or bound) on first use.
type Store struct {
	js      jetstream.JetStream
	cfg     Config
	log     *slog.Logger
	m       *metrics
	keys    *dataKeys
	touched *touchCache

	mu    sync.Mutex // guards kv and keyKV: bound on first use
	kv    jetstream.KeyValue
	keyKV jetstream.KeyValue
}

// New returns a Store on js whose personal data is sealed under data keys
// from k. Metrics are registered on reg (nil: not registered).
func New(js jetstream.JetStream, k kms.KMS, cfg Config, log *slog.Logger, reg prometheus.Registerer) (*Store, error) {
	if js == nil || k == nil {
		return nil, errors.New("session: a JetStream context and a KMS are required")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Store{js: js, cfg: cfg, log: log, m: m,
		keys:    newDataKeys(k, cfg.TTL, cfg.Now, log),
		touched: newTouchCache(cfg.TTL/8, cfg.TouchCacheSize)}, nil
}

// buckets returns the sessions and key buckets, creating or updating them
// on first use. A failure is not remembered: the next call tries again.
func (s *Store) buckets(ctx context.Context) (sessions, keys jetstream.KeyValue, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kv != nil {
		return s.kv, s.keyKV, nil
	}
	kv, err := s.openBucket(ctx, jetstream.KeyValueConfig{
		Bucket:         s.cfg.Bucket,
		Description:    "onair viewer sessions (personal data encrypted; each record expires by its own TTL)",
		History:        1,
		Storage:        jetstream.FileStorage,
		Replicas:       s.cfg.Replicas,
		LimitMarkerTTL: markerTTL,
	})
	if err != nil {
		return nil, nil, err
	}
	keyKV, err := s.openBucket(ctx, jetstream.KeyValueConfig{
		Bucket:         s.cfg.KeyBucket,
		Description:    "onair viewer session data keys, one per UTC day, wrapped by the KMS",
		History:        1,
		Storage:        jetstream.FileStorage,
		Replicas:       s.cfg.Replicas,
		LimitMarkerTTL: markerTTL,
	})
	if err != nil {
		return nil, nil, err
	}
	s.kv, s.keyKV = kv, keyKV
	return kv, keyKV, nil
}

// openBucket binds a bucket whose settings already match cfg, or creates
// it, or updates it to cfg, logging what changed (a bucket-wide TTL would
// cut revoked sessions short, see the package doc).
func (s *Store) openBucket(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	if old, err := s.js.KeyValue(ctx, cfg.Bucket); err == nil {
		st, err := old.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("session: bucket %s: %w", cfg.Bucket, err)
		}
		replicas := cfg.Replicas
		if bs, ok := st.(*jetstream.KeyValueBucketStatus); ok {
			replicas = bs.StreamInfo().Config.Replicas
		}
		if st.TTL() == cfg.TTL && st.LimitMarkerTTL() == cfg.LimitMarkerTTL && st.History() == int64(cfg.History) && replicas == cfg.Replicas {
			return old, nil
		}
		s.log.Info("session: updating bucket settings", "bucket", cfg.Bucket,
			"ttl", st.TTL(), "new_ttl", cfg.TTL, "marker_ttl", st.LimitMarkerTTL(), "new_marker_ttl", cfg.LimitMarkerTTL,
			"history", st.History(), "new_history", cfg.History, "replicas", replicas, "new_replicas", cfg.Replicas)
	}
	kv, err := s.js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("session: bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// Create stores a new session: s.ID, Channel and TokenExpires (in the
// future) are required, Tenant may be empty, Revoked must be zero.
// Created and Refreshed are set to now; a user agent longer than
// MaxUserAgent is cut. Errors wrap ErrInvalid or ErrExists, or are
// storage trouble.
func (s *Store) Create(ctx context.Context, in Session) (Session, error) {
	now := s.now()
	in, err := normalize(in, now)
	if err != nil {
		return Session{}, fmt.Errorf("session: create: %w", err)
	}
	in.Created, in.Refreshed = now, now
	key := kvKey(in.Tenant, in.Channel, in.ID)
	kv, keyKV, err := s.buckets(ctx)
	if err != nil {
		return Session{}, s.fail(opCreate, err)
	}
	r := record{V: recordVersion, ID: in.ID, Tenant: in.Tenant, Channel: in.Channel, Created: now, Refreshed: now,
		TokenExpires: in.TokenExpires}
	if err := s.seal(ctx, keyKV, key, &r, in.PII); err != nil {
		return Session{}, s.fail(opCreate, fmt.Errorf("session: create %s: %w", key, err))
	}
	data, err := json.Marshal(r)
	if err != nil {
		return Session{}, s.fail(opCreate, fmt.Errorf("session: create %s: %w", key, err))
	}
	if _, err := kv.Create(ctx, key, data, jetstream.KeyTTL(s.cfg.TTL)); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return Session{}, fmt.Errorf("session: create %s: %w", key, ErrExists)
		}
		return Session{}, s.fail(opCreate, fmt.Errorf("session: create %s: %w", key, err))
	}
	s.m.created.Inc()
	s.touched.claim(key, now) // just written: the first Touch need not write again
	return in, nil
}

// Get returns a session with its personal data. Errors wrap ErrNotFound
// (missing or expired) or ErrInvalid, or are storage or KMS trouble (a
// node whose KMS lacks the KEK that wrapped the data key gets
// kms.ErrUnknownKEK or kms.ErrDecrypt).
func (s *Store) Get(ctx context.Context, tenant, channel, id string) (Session, error) {
	if err := checkKey(tenant, channel, id); err != nil {
		return Session{}, fmt.Errorf("session: get: %w", err)
	}
	key := kvKey(tenant, channel, id)
	kv, keyKV, err := s.buckets(ctx)
	if err != nil {
		return Session{}, s.fail(opGet, err)
	}
	r, _, err := s.read(ctx, kv, key)
	if err != nil {
		return Session{}, s.fail(opGet, err)
	}
	out := r.session()
	if out.PII, err = s.open(ctx, keyKV, key, r); err != nil {
		return Session{}, s.fail(opGet, fmt.Errorf("session: %s: %w", key, err))
	}
	return out, nil
}

// Check tells the license endpoint whether a session may still get keys:
// nil for a live session; an error wrapping ErrRevoked for a revoked one,
// and wrapping both ErrRevoked and ErrNotFound for a missing or expired
// one; any other error is storage trouble. It reads the bucket on every
// call (no cache: the license endpoint is low rate, and a revocation must
// apply at once) and decrypts nothing.
func (s *Store) Check(ctx context.Context, tenant, channel, id string) error {
	if err := checkKey(tenant, channel, id); err != nil {
		return fmt.Errorf("session: check: %w", err)
	}
	key := kvKey(tenant, channel, id)
	kv, _, err := s.buckets(ctx)
	if err != nil {
		return s.fail(opCheck, err)
	}
	r, _, err := s.read(ctx, kv, key)
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("session %s: missing or expired: %w: %w", key, ErrRevoked, ErrNotFound)
	case err != nil:
		return s.fail(opCheck, err)
	case !r.Revoked.IsZero():
		return fmt.Errorf("session %s: revoked at %s: %w", key, r.Revoked.Format(time.RFC3339), ErrRevoked)
	}
	return nil
}

// read returns a stored record and its revision; errors wrap ErrNotFound.
func (s *Store) read(ctx context.Context, kv jetstream.KeyValue, key string) (record, uint64, error) {
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return record{}, 0, fmt.Errorf("session %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return record{}, 0, fmt.Errorf("session: read %s: %w", key, err)
	}
	r, err := decodeRecord(key, e.Value())
	if err != nil {
		return record{}, 0, fmt.Errorf("session: %w", err)
	}
	return r, e.Revision(), nil
}

// seal encrypts p into r under today's data key.
func (s *Store) seal(ctx context.Context, keyKV jetstream.KeyValue, key string, r *record, p PII) error {
	id, a, err := s.keys.current(ctx, keyKV)
	if err != nil {
		return err
	}
	blob, err := sealPII(a, key, p)
	if err != nil {
		return err
	}
	r.DEK, r.PII = id, blob
	return nil
}

// open decrypts r's personal data; empty when its data key was shredded.
func (s *Store) open(ctx context.Context, keyKV jetstream.KeyValue, key string, r record) (PII, error) {
	a, err := s.keys.byID(ctx, keyKV, r.DEK)
	if errors.Is(err, errShredded) {
		return PII{}, nil
	}
	if err != nil {
		return PII{}, err
	}
	return openPII(a, key, r.PII)
}

// now is the clock, in UTC without a monotonic reading.
func (s *Store) now() time.Time { return s.cfg.Now().UTC().Round(0) }

// fail counts err as store trouble unless it is a caller's error or a
// cancelled context, and returns it.
func (s *Store) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	for _, e := range []error{ErrNotFound, ErrExists, ErrRevoked, ErrInvalid, context.Canceled} {
		if errors.Is(err, e) {
			return err
		}
	}
	s.m.errors.WithLabelValues(op).Inc()
	return err
}
