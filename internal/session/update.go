package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// maxAttempts bounds the read-modify-write retries of Touch and Revoke
// when another writer changed the record in between.
const maxAttempts = 5

// Touch refreshes a session: its TTL restarts and Refreshed becomes now.
// It writes at most once per TTL/8 per session in this process (calls in
// between return nil without any I/O, so playback may call it on every
// request), and never refreshes a revoked session (the error wraps
// ErrRevoked; remembered, so repeated calls are cheap). A missing or
// expired session gives ErrNotFound.
func (s *Store) Touch(ctx context.Context, tenant, channel, id string) error {
	if err := checkKey(tenant, channel, id); err != nil {
		return fmt.Errorf("session: touch: %w", err)
	}
	key := kvKey(tenant, channel, id)
	now := s.now()
	due, revoked := s.touched.claim(key, now)
	if revoked {
		return fmt.Errorf("session %s: %w", key, ErrRevoked)
	}
	if !due {
		return nil
	}
	err := s.update(ctx, key, func(r *record) (time.Duration, error) {
		if !r.Revoked.IsZero() {
			return 0, fmt.Errorf("session %s: %w", key, ErrRevoked)
		}
		r.Refreshed = now
		return s.cfg.TTL, nil
	})
	switch {
	case errors.Is(err, ErrRevoked):
		s.touched.revoked(key, now)
	case err != nil:
		s.touched.forget(key)
	}
	return s.fail(opTouch, err)
}

// Revoke marks a session revoked: Check refuses it at once and edges
// watching the bucket refuse its token within seconds. The record is kept
// until the token expires plus Config.Leeway (at least TTL), so edges
// keep refusing it for the token's whole life. Revoking a revoked session
// is a no-op; a missing one gives ErrNotFound.
func (s *Store) Revoke(ctx context.Context, tenant, channel, id string) error {
	if err := checkKey(tenant, channel, id); err != nil {
		return fmt.Errorf("session: revoke: %w", err)
	}
	key := kvKey(tenant, channel, id)
	now := s.now()
	var already bool
	err := s.update(ctx, key, func(r *record) (time.Duration, error) {
		if !r.Revoked.IsZero() {
			already = true
			return 0, nil
		}
		r.Revoked = now
		return max(s.cfg.TTL, roundUpSecond(r.TokenExpires.Add(s.cfg.Leeway).Sub(now))), nil
	})
	if err != nil {
		return s.fail(opRevoke, err)
	}
	s.touched.revoked(key, now)
	if !already {
		s.m.revoked.Inc()
		s.log.Info("session revoked", "tenant", tenant, "channel", channel, "session", id)
	}
	return nil
}

// update reads key, lets change edit the record and choose its new TTL (0:
// leave it unchanged, write nothing), and writes it back only if nobody
// wrote in between (expected last revision), retrying on a race. The
// personal data moves to today's data key on the way, so a data key is
// never needed longer than TTL after its day.
func (s *Store) update(ctx context.Context, key string, change func(*record) (time.Duration, error)) error {
	kv, keyKV, err := s.buckets(ctx)
	if err != nil {
		return err
	}
	for range maxAttempts {
		r, rev, err := s.read(ctx, kv, key)
		if err != nil {
			return err
		}
		ttl, err := change(&r)
		if err != nil || ttl == 0 {
			return err
		}
		if r.DEK != dayID(s.now()) {
			p, err := s.open(ctx, keyKV, key, r)
			if err != nil {
				return fmt.Errorf("session: %s: %w", key, err)
			}
			if err := s.seal(ctx, keyKV, key, &r, p); err != nil {
				return fmt.Errorf("session: %s: %w", key, err)
			}
		}
		data, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("session: %s: %w", key, err)
		}
		err = s.write(ctx, kv, key, data, rev, ttl)
		if errors.Is(err, jetstream.ErrKeyExists) {
			continue // changed since read: redo on the new record
		}
		if err != nil {
			return fmt.Errorf("session: write %s: %w", key, err)
		}
		return nil
	}
	return fmt.Errorf("session: write %s: the record kept changing (%d attempts)", key, maxAttempts)
}

// write stores data under key with its own TTL if the key's last revision
// is still rev. jetstream.KeyValue.Update takes no TTL, so this publishes
// to the bucket's subject like Update does (no JetStream domain or API
// prefix support), with the Nats-TTL header. A conflict wraps
// jetstream.ErrKeyExists.
func (s *Store) write(ctx context.Context, kv jetstream.KeyValue, key string, data []byte, rev uint64, ttl time.Duration) error {
	_, err := s.js.Publish(ctx, "$KV."+kv.Bucket()+"."+key, data,
		jetstream.WithExpectLastSequencePerSubject(rev), jetstream.WithMsgTTL(ttl))
	return err
}
