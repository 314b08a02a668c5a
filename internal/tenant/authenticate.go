package tenant

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Authenticate checks a presented key (onair_<keyid>_<secret>) and returns
// its record. Errors wrap ErrMalformed (not a key's shape), ErrUnknownKey
// (no such key id, or the secret does not match: one error for both, so
// the API cannot be used to probe for key ids even though they are not
// secret), or ErrRevoked (the key was revoked or its tenant deleted; only
// said to a caller who presented the right secret). Any other error is a
// storage failure: answer 503, not 401.
//
// The secret is hashed and the hash compared in constant time, so timing
// reveals nothing about it. Verified keys are cached for Config.CacheTTL.
func (s *Store) Authenticate(ctx context.Context, presented string) (APIKey, error) {
	id, secret, err := parseKey(presented)
	if err != nil {
		return APIKey{}, err
	}
	sum := hashSecret(id, secret)
	now := s.cfg.Now()
	if e, ok := s.cache.get(id, now); ok {
		if !hashesEqual(sum, e.key.Hash) {
			return APIKey{}, fmt.Errorf("api key %s: secret does not match: %w", id, ErrUnknownKey)
		}
		s.touch(ctx, e.key, now)
		return e.key, nil
	}
	rec, _, err := s.getKey(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return APIKey{}, fmt.Errorf("api key %s: no such key: %w", id, ErrUnknownKey)
	}
	if err != nil {
		return APIKey{}, err
	}
	if rec.HashAlg != hashAlg {
		return APIKey{}, fmt.Errorf("tenant: key %s: unknown hash algorithm %q", id, rec.HashAlg)
	}
	if !hashesEqual(sum, rec.Hash) {
		return APIKey{}, fmt.Errorf("api key %s: secret does not match: %w", id, ErrUnknownKey)
	}
	if !rec.Active() {
		return APIKey{}, fmt.Errorf("api key %s: revoked at %s: %w", id, rec.Revoked.Format(time.RFC3339), ErrRevoked)
	}
	if rec.Tenant != "" {
		// A key can outlive its tenant only through a race with
		// DeleteTenant; such a key opens nothing.
		if _, err := s.GetTenant(ctx, rec.Tenant); errors.Is(err, ErrNotFound) {
			return APIKey{}, fmt.Errorf("api key %s: tenant %s was deleted: %w", id, rec.Tenant, ErrRevoked)
		} else if err != nil {
			return APIKey{}, err
		}
	}
	s.cache.put(rec.APIKey, now)
	s.touch(ctx, rec.APIKey, now)
	return rec.APIKey, nil
}

// touch records LastUsed, at most once per lastUsedEvery per key. It is
// best effort: a failure is logged, never returned, since it must not turn
// a valid key away.
func (s *Store) touch(ctx context.Context, k APIKey, now time.Time) {
	if !s.cache.claimTouch(k.ID, k.LastUsed, now) {
		return
	}
	err := s.updateKey(ctx, k.ID, func(r *storedKey) bool {
		if !r.Active() || now.Sub(r.LastUsed) < lastUsedEvery {
			return false
		}
		r.LastUsed = now.UTC()
		return true
	})
	if err != nil {
		s.log.Debug("api key last-used not recorded", "role", "tenant", "key", k.ID, "error", err)
	}
}
