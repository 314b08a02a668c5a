package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"onair/internal/live"
)

// maxText bounds tenant names and key descriptions, in bytes.
const maxText = 200

// Tenant is an organisation whose channels, keys and sessions are kept
// apart from every other tenant's.
type Tenant struct {
	// ID is the tenant's slug (see ValidID); it never changes.
	ID string `json:"id"`
	// Name is for people; defaults to ID.
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

// ValidID reports whether id is a tenant slug: ^[a-z0-9][a-z0-9-]{0,62}$,
// the rule for channel names.
func ValidID(id string) bool { return live.ValidChannelName(id) }

// checkText validates a name or description: valid UTF-8, at most maxText
// bytes, no control characters (they would forge lines in logs and CLIs).
func checkText(what, s string) error {
	switch {
	case len(s) > maxText:
		return fmt.Errorf("%s is %d bytes, more than %d: %w", what, len(s), maxText, ErrInvalid)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8: %w", what, ErrInvalid)
	case strings.ContainsFunc(s, unicode.IsControl):
		return fmt.Errorf("%s contains control characters: %w", what, ErrInvalid)
	}
	return nil
}

func tenantKey(id string) string { return "tenant." + id }

// CreateTenant stores a new tenant; ErrExists if the id is taken,
// ErrInvalid for a bad id or name. An empty name becomes the id.
func (s *Store) CreateTenant(ctx context.Context, id, name string) (Tenant, error) {
	if !ValidID(id) {
		return Tenant{}, fmt.Errorf("tenant id %q: must match ^[a-z0-9][a-z0-9-]{0,62}$: %w", id, ErrInvalid)
	}
	if err := checkText("tenant name", name); err != nil {
		return Tenant{}, err
	}
	if name == "" {
		name = id
	}
	t := Tenant{ID: id, Name: name, Created: s.cfg.Now().UTC()}
	b, err := json.Marshal(t)
	if err != nil {
		return Tenant{}, fmt.Errorf("tenant: encode %s: %w", id, err)
	}
	kv, err := s.bucket(ctx)
	if err != nil {
		return Tenant{}, err
	}
	if _, err := kv.Create(ctx, tenantKey(id), b); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return Tenant{}, fmt.Errorf("tenant %s: %w", id, ErrExists)
		}
		return Tenant{}, fmt.Errorf("tenant: create %s: %w", id, err)
	}
	return t, nil
}

// GetTenant returns a tenant; ErrNotFound if absent.
func (s *Store) GetTenant(ctx context.Context, id string) (Tenant, error) {
	if !ValidID(id) {
		return Tenant{}, fmt.Errorf("tenant %q: %w", id, ErrNotFound)
	}
	kv, err := s.bucket(ctx)
	if err != nil {
		return Tenant{}, err
	}
	e, err := kv.Get(ctx, tenantKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Tenant{}, fmt.Errorf("tenant %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("tenant: get %s: %w", id, err)
	}
	var t Tenant
	if err := json.Unmarshal(e.Value(), &t); err != nil {
		return Tenant{}, fmt.Errorf("tenant: decode %s: %w", id, err)
	}
	return t, nil
}

// ListTenants returns every tenant, by id.
func (s *Store) ListTenants(ctx context.Context) ([]Tenant, error) {
	keys, err := s.listKeys(ctx, "tenant.")
	if err != nil {
		return nil, err
	}
	out := make([]Tenant, 0, len(keys))
	for _, k := range keys {
		t, err := s.GetTenant(ctx, strings.TrimPrefix(k, "tenant."))
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Tenant) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// DeleteTenant removes a tenant and its revoked key records. It refuses
// with ErrHasKeys while the tenant has an unrevoked key: revoke them first,
// so that deleting a tenant never silently locks out a running client.
// Channels and sessions are not this package's: callers check them first.
func (s *Store) DeleteTenant(ctx context.Context, id string) error {
	if _, err := s.GetTenant(ctx, id); err != nil {
		return err
	}
	keys, err := s.ListKeys(ctx, id)
	if err != nil {
		return err
	}
	var active []string
	for _, k := range keys {
		if k.Active() {
			active = append(active, k.ID)
		}
	}
	if len(active) > 0 {
		return fmt.Errorf("tenant %s: %d key(s) not revoked (%s): revoke them first: %w",
			id, len(active), strings.Join(active, ", "), ErrHasKeys)
	}
	kv, err := s.bucket(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := kv.Purge(ctx, apiKeyKey(k.ID)); err != nil {
			return fmt.Errorf("tenant: delete %s: purge key %s: %w", id, k.ID, err)
		}
	}
	if err := kv.Purge(ctx, tenantKey(id)); err != nil {
		return fmt.Errorf("tenant: delete %s: %w", id, err)
	}
	s.cache.dropTenant(id)
	return nil
}
