package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"onair/internal/authz"
)

// Role is what an API key may do; internal/authz's policies give it
// meaning (see the package documentation).
type Role string

// Roles.
const (
	RoleOperator     Role = authz.RoleOperator
	RoleAdmin        Role = authz.RoleAdmin
	RoleViewerIssuer Role = authz.RoleViewerIssuer
	RoleReadOnly     Role = authz.RoleReadOnly
)

// Roles returns every role, most powerful first.
func Roles() []Role { return []Role{RoleOperator, RoleAdmin, RoleViewerIssuer, RoleReadOnly} }

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// APIKey is a key's record. It never holds the secret.
type APIKey struct {
	// ID is the <keyid> of onair_<keyid>_<secret>: 16 lowercase hex digits.
	ID string `json:"id"`
	// Tenant is the key's tenant, "" for operator keys.
	Tenant string `json:"tenant"`
	Role   Role   `json:"role"`
	// Hash is SHA-256 of the secret (see hashSecret). Not in JSON output:
	// it is useless to an attacker but nothing a client needs either.
	Hash    []byte    `json:"-"`
	Created time.Time `json:"created"`
	// LastUsed is when the key last authenticated, to about a minute
	// (it is written at most once a minute); zero if never.
	LastUsed    time.Time `json:"last_used,omitzero"`
	Revoked     time.Time `json:"revoked,omitzero"` // zero while active
	Description string    `json:"description,omitempty"`
}

// Active reports whether the key is not revoked.
func (k APIKey) Active() bool { return k.Revoked.IsZero() }

// storedKey is the KV form of an APIKey: the record plus its hash.
type storedKey struct {
	APIKey
	Hash    []byte `json:"hash"`
	HashAlg string `json:"hash_alg"`
}

// lastUsedEvery bounds LastUsed writes: one per key per minute, not one per
// request.
const lastUsedEvery = time.Minute

func apiKeyKey(id string) string { return "apikey." + id }

// CreateKey creates a key for tenant with role and returns its record and
// its plaintext, onair_<keyid>_<secret>, which is not kept anywhere: show
// it once. Operator keys have tenant ""; every other role needs an
// existing tenant (ErrNotFound otherwise). ErrInvalid for a bad role,
// tenant/role combination or description.
func (s *Store) CreateKey(ctx context.Context, tenant string, role Role, desc string) (APIKey, string, error) {
	switch {
	case !role.Valid():
		return APIKey{}, "", fmt.Errorf("role %q: want one of %q: %w", role, Roles(), ErrInvalid)
	case role == RoleOperator && tenant != "":
		return APIKey{}, "", fmt.Errorf("operator keys belong to no tenant, got tenant %q: %w", tenant, ErrInvalid)
	case role != RoleOperator && tenant == "":
		return APIKey{}, "", fmt.Errorf("a %s key needs a tenant: %w", role, ErrInvalid)
	}
	if err := checkText("key description", desc); err != nil {
		return APIKey{}, "", err
	}
	if tenant != "" {
		if _, err := s.GetTenant(ctx, tenant); err != nil {
			return APIKey{}, "", err
		}
	}
	kv, err := s.bucket(ctx)
	if err != nil {
		return APIKey{}, "", err
	}
	for range 3 {
		id, secret := newKeyMaterial()
		k := APIKey{ID: id, Tenant: tenant, Role: role, Created: s.cfg.Now().UTC(), Description: desc}
		b, err := json.Marshal(storedKey{APIKey: k, Hash: hashSecret(id, secret), HashAlg: hashAlg})
		if err != nil {
			return APIKey{}, "", fmt.Errorf("tenant: encode key: %w", err)
		}
		if _, err := kv.Create(ctx, apiKeyKey(id), b); errors.Is(err, jetstream.ErrKeyExists) {
			continue // 64-bit id collision: draw again
		} else if err != nil {
			return APIKey{}, "", fmt.Errorf("tenant: create key for %q: %w", tenant, err)
		}
		if tenant != "" {
			// DeleteTenant may have run since the check above: do not leave
			// a key for a tenant that no longer exists.
			if _, err := s.GetTenant(ctx, tenant); err != nil {
				_ = kv.Purge(ctx, apiKeyKey(id))
				return APIKey{}, "", err
			}
		}
		k.Hash = hashSecret(id, secret)
		s.log.Info("api key created", "role", "tenant", "tenant", tenant, "key", id, "key_role", string(role))
		return k, formatKey(id, secret), nil
	}
	return APIKey{}, "", errors.New("tenant: create key: three key id collisions in a row")
}

// getKey reads a key record and its revision; ErrNotFound if absent.
func (s *Store) getKey(ctx context.Context, id string) (storedKey, uint64, error) {
	if !validKeyID(id) {
		return storedKey{}, 0, fmt.Errorf("api key %q: %w", id, ErrNotFound)
	}
	kv, err := s.bucket(ctx)
	if err != nil {
		return storedKey{}, 0, err
	}
	e, err := kv.Get(ctx, apiKeyKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return storedKey{}, 0, fmt.Errorf("api key %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return storedKey{}, 0, fmt.Errorf("tenant: get key %s: %w", id, err)
	}
	var k storedKey
	if err := json.Unmarshal(e.Value(), &k); err != nil {
		return storedKey{}, 0, fmt.Errorf("tenant: decode key %s: %w", id, err)
	}
	k.APIKey.Hash = k.Hash
	return k, e.Revision(), nil
}

// GetKey returns a key's record; ErrNotFound if absent.
func (s *Store) GetKey(ctx context.Context, id string) (APIKey, error) {
	k, _, err := s.getKey(ctx, id)
	return k.APIKey, err
}

// ListKeys returns tenant's keys, revoked ones included, oldest first;
// tenant "" lists the operator keys.
func (s *Store) ListKeys(ctx context.Context, tenant string) ([]APIKey, error) {
	if tenant != "" && !ValidID(tenant) {
		return nil, fmt.Errorf("tenant %q: %w", tenant, ErrNotFound)
	}
	ids, err := s.listKeys(ctx, "apikey.")
	if err != nil {
		return nil, err
	}
	var out []APIKey
	for _, k := range ids {
		rec, _, err := s.getKey(ctx, strings.TrimPrefix(k, "apikey."))
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		if rec.Tenant == tenant {
			out = append(out, rec.APIKey)
		}
	}
	slices.SortFunc(out, func(a, b APIKey) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// RevokeKey marks a key revoked; Authenticate refuses it from now on in
// this process, and within Config.CacheTTL on every other. Revoking a
// revoked key changes nothing. ErrNotFound if absent.
func (s *Store) RevokeKey(ctx context.Context, id string) error {
	err := s.updateKey(ctx, id, func(k *storedKey) bool {
		if !k.Active() {
			return false
		}
		k.Revoked = s.cfg.Now().UTC()
		return true
	})
	s.cache.drop(id)
	if err != nil {
		return err
	}
	s.log.Info("api key revoked", "role", "tenant", "key", id)
	return nil
}

// updateKey applies change to a key record with compare-and-set, retrying
// when another writer (a LastUsed update, another node) got there first,
// so no write is lost. change returns false to write nothing.
func (s *Store) updateKey(ctx context.Context, id string, change func(*storedKey) bool) error {
	kv, err := s.bucket(ctx)
	if err != nil {
		return err
	}
	for range 5 {
		k, rev, err := s.getKey(ctx, id)
		if err != nil {
			return err
		}
		if !change(&k) {
			return nil
		}
		b, err := json.Marshal(k)
		if err != nil {
			return fmt.Errorf("tenant: encode key %s: %w", id, err)
		}
		_, err = kv.Update(ctx, apiKeyKey(id), b, rev)
		if errors.Is(err, jetstream.ErrKeyExists) {
			continue // revision moved: reread and reapply
		}
		if err != nil {
			return fmt.Errorf("tenant: update key %s: %w", id, err)
		}
		return nil
	}
	return fmt.Errorf("tenant: update key %s: still contended after 5 attempts", id)
}
