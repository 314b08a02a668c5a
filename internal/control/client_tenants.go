package control

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"onair/internal/tenant"
)

// ListSessions returns a channel's viewer sessions.
func (c *Client) ListSessions(ctx context.Context, name string) ([]ViewerSession, error) {
	var list SessionList
	if err := c.do(ctx, http.MethodGet, channelPath(name)+"/sessions", nil, &list); err != nil {
		return nil, fmt.Errorf("list sessions of channel %q: %w", name, err)
	}
	return list.Sessions, nil
}

// RevokeSession revokes a viewer session of a channel.
func (c *Client) RevokeSession(ctx context.Context, name, id string) error {
	if err := c.do(ctx, http.MethodDelete, channelPath(name)+"/sessions/"+url.PathEscape(id), nil, nil); err != nil {
		return fmt.Errorf("revoke session %q of channel %q: %w", id, name, err)
	}
	return nil
}

// CreateTenant creates a tenant (operators only).
func (c *Client) CreateTenant(ctx context.Context, spec TenantSpec) (tenant.Tenant, error) {
	var t tenant.Tenant
	if err := c.do(ctx, http.MethodPost, "/api/v1/tenants", spec, &t); err != nil {
		return tenant.Tenant{}, fmt.Errorf("create tenant %q: %w", spec.ID, err)
	}
	return t, nil
}

// ListTenants returns the tenants the caller may see.
func (c *Client) ListTenants(ctx context.Context) ([]tenant.Tenant, error) {
	var list TenantList
	if err := c.do(ctx, http.MethodGet, "/api/v1/tenants", nil, &list); err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return list.Tenants, nil
}

// DeleteTenant deletes a tenant that owns no channels and no active keys.
func (c *Client) DeleteTenant(ctx context.Context, id string) error {
	if err := c.do(ctx, http.MethodDelete, tenantPath(id), nil, nil); err != nil {
		return fmt.Errorf("delete tenant %q: %w", id, err)
	}
	return nil
}

// CreateKey creates an API key of a tenant; the result holds its
// plaintext, which the server never shows again.
func (c *Client) CreateKey(ctx context.Context, tenantID string, spec KeySpec) (NewKey, error) {
	var k NewKey
	if err := c.do(ctx, http.MethodPost, tenantPath(tenantID)+"/keys", spec, &k); err != nil {
		return NewKey{}, fmt.Errorf("create a key for tenant %q: %w", tenantID, err)
	}
	return k, nil
}

// ListKeys returns a tenant's API keys (never their secrets).
func (c *Client) ListKeys(ctx context.Context, tenantID string) ([]tenant.APIKey, error) {
	var list KeyList
	if err := c.do(ctx, http.MethodGet, tenantPath(tenantID)+"/keys", nil, &list); err != nil {
		return nil, fmt.Errorf("list keys of tenant %q: %w", tenantID, err)
	}
	return list.Keys, nil
}

// RevokeKey revokes an API key of a tenant.
func (c *Client) RevokeKey(ctx context.Context, tenantID, keyID string) error {
	if err := c.do(ctx, http.MethodDelete, tenantPath(tenantID)+"/keys/"+url.PathEscape(keyID), nil, nil); err != nil {
		return fmt.Errorf("revoke key %q of tenant %q: %w", keyID, tenantID, err)
	}
	return nil
}

func tenantPath(id string) string { return "/api/v1/tenants/" + url.PathEscape(id) }
