package control

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"onair/internal/authz"
	"onair/internal/tenant"
)

// Tenants manages tenants and their API keys (internal/tenant.Store).
type Tenants interface {
	KeyAuthenticator
	CreateTenant(ctx context.Context, id, name string) (tenant.Tenant, error)
	GetTenant(ctx context.Context, id string) (tenant.Tenant, error)
	ListTenants(ctx context.Context) ([]tenant.Tenant, error)
	DeleteTenant(ctx context.Context, id string) error
	CreateKey(ctx context.Context, tenantID string, role tenant.Role, desc string) (tenant.APIKey, string, error)
	GetKey(ctx context.Context, id string) (tenant.APIKey, error)
	ListKeys(ctx context.Context, tenantID string) ([]tenant.APIKey, error)
	RevokeKey(ctx context.Context, id string) error
}

// keyAuthenticator is t as a KeyAuthenticator, nil for none (a nil
// interface, not an interface holding a nil pointer).
func keyAuthenticator(t Tenants) KeyAuthenticator {
	if t == nil {
		return nil
	}
	return t
}

// TenantSpec is the body of POST /api/v1/tenants.
type TenantSpec struct {
	// ID is the tenant's slug, like a channel name.
	ID string `json:"id"`
	// Name is a display name; default the id.
	Name string `json:"name,omitempty"`
}

// TenantList is the response body of GET /api/v1/tenants.
type TenantList struct {
	Tenants []tenant.Tenant `json:"tenants"`
}

// KeySpec is the body of POST /api/v1/tenants/{tenant}/keys.
type KeySpec struct {
	// Role is admin, viewer-issuer or read-only.
	Role        string `json:"role"`
	Description string `json:"description,omitempty"`
}

// NewKey is a created API key: Key is its plaintext, shown only here.
type NewKey struct {
	tenant.APIKey
	Key string `json:"key"`
}

// KeyList is the response body of GET /api/v1/tenants/{tenant}/keys.
type KeyList struct {
	Keys []tenant.APIKey `json:"keys"`
}

func (a *API) tenantRoutes() {
	const (
		tenants = "/api/v1/tenants"
		one     = tenants + "/{tenant}"
		keys    = one + "/keys"
		key     = keys + "/{key}"
	)
	mux := a.mux
	mux.Handle("GET "+tenants, a.serveAPI(a.withTenants(a.listTenants)))
	mux.Handle("POST "+tenants, a.serveAPI(a.withTenants(a.createTenant)))
	mux.Handle(tenants, methodNotAllowed("GET, HEAD, POST"))
	mux.Handle("GET "+one, a.serveAPI(a.withTenants(a.getTenant)))
	mux.Handle("DELETE "+one, a.serveAPI(a.withTenants(a.deleteTenant)))
	mux.Handle(one, methodNotAllowed("GET, HEAD, DELETE"))
	mux.Handle("GET "+keys, a.serveAPI(a.withTenants(a.listKeys)))
	mux.Handle("POST "+keys, a.serveAPI(a.withTenants(a.createKey)))
	mux.Handle(keys, methodNotAllowed("GET, HEAD, POST"))
	mux.Handle("DELETE "+key, a.serveAPI(a.withTenants(a.revokeKey)))
	mux.Handle(key, methodNotAllowed("DELETE"))
}

// withTenants answers 404 when the server keeps no tenants.
func (a *API) withTenants(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if a.tenants == nil {
			return errorf(http.StatusNotFound, "this server has no tenants")
		}
		return h(w, r)
	}
}

// tenantError maps internal/tenant's errors to statuses; the texts are
// written for the client.
func tenantError(op string, err error) error {
	wrapped := fmt.Errorf("%s: %w", op, err)
	switch {
	case errors.Is(err, tenant.ErrNotFound):
		return &httpError{status: http.StatusNotFound, msg: err.Error(), cause: wrapped}
	case errors.Is(err, tenant.ErrExists), errors.Is(err, tenant.ErrHasKeys):
		return &httpError{status: http.StatusConflict, msg: err.Error(), cause: wrapped}
	case errors.Is(err, tenant.ErrInvalid):
		return &httpError{status: http.StatusBadRequest, msg: err.Error(), cause: wrapped}
	}
	return wrapped
}

func tenantNotFound(id string) func() error {
	return func() error { return errorf(http.StatusNotFound, "tenant %q not found", id) }
}

// tenantResource is tenant id as a policy resource.
func tenantResource(id string) authz.Resource {
	return authz.Resource{Type: authz.TypeTenant, ID: id, Tenant: id}
}

// getTenantAllowed authorizes action on tenant id, then reads it (404
// for a missing tenant and for one the principal may not see alike).
func (a *API) getTenantAllowed(r *http.Request, action, id string) (tenant.Tenant, error) {
	if !tenant.ValidID(id) {
		return tenant.Tenant{}, tenantNotFound(id)()
	}
	if err := a.allow(r, action, tenantResource(id), tenantNotFound(id)); err != nil {
		return tenant.Tenant{}, err
	}
	t, err := a.tenants.GetTenant(r.Context(), id)
	if errors.Is(err, tenant.ErrNotFound) {
		return tenant.Tenant{}, tenantNotFound(id)()
	}
	if err != nil {
		return tenant.Tenant{}, tenantError("get tenant "+id, err)
	}
	return t, nil
}

func (a *API) listTenants(w http.ResponseWriter, r *http.Request) error {
	all, err := a.tenants.ListTenants(r.Context())
	if err != nil {
		return tenantError("list tenants", err)
	}
	out := []tenant.Tenant{}
	for _, t := range all {
		if a.permitted(r, authz.ActionList, tenantResource(t.ID)) {
			out = append(out, t)
		}
	}
	writeJSON(w, http.StatusOK, TenantList{Tenants: out})
	return nil
}

func (a *API) createTenant(w http.ResponseWriter, r *http.Request) error {
	var spec TenantSpec
	if err := decodeJSON(w, r, &spec); err != nil {
		return err
	}
	if err := a.allow(r, authz.ActionCreate, tenantResource(spec.ID), nil); err != nil {
		return err
	}
	t, err := a.tenants.CreateTenant(r.Context(), spec.ID, spec.Name)
	if err != nil {
		return tenantError("create tenant", err)
	}
	w.Header().Set("Location", "/api/v1/tenants/"+url.PathEscape(t.ID))
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (a *API) getTenant(w http.ResponseWriter, r *http.Request) error {
	t, err := a.getTenantAllowed(r, authz.ActionRead, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// deleteTenant refuses while the tenant owns channels or unrevoked keys.
func (a *API) deleteTenant(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("tenant")
	if _, err := a.getTenantAllowed(r, authz.ActionDelete, id); err != nil {
		return err
	}
	n, err := a.channelsOf(r.Context(), id)
	if err != nil {
		return err
	}
	if n > 0 {
		return errorf(http.StatusConflict, "tenant %s owns %d channel(s): delete them first", id, n)
	}
	if err := a.tenants.DeleteTenant(r.Context(), id); err != nil {
		return tenantError("delete tenant "+id, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// channelsOf counts the channels tenant id owns.
func (a *API) channelsOf(ctx context.Context, id string) (int, error) {
	chans, err := a.m.ListChannels(ctx, "")
	if err != nil {
		return 0, managerError("list channels", err)
	}
	n := 0
	for _, c := range chans {
		if c.Tenant == id {
			n++
		}
	}
	return n, nil
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("tenant")
	if !tenant.ValidID(id) {
		return tenantNotFound(id)()
	}
	if err := a.allow(r, authz.ActionList, authz.Resource{Type: authz.TypeAPIKey, Tenant: id}, tenantNotFound(id)); err != nil {
		return err
	}
	if _, err := a.tenants.GetTenant(r.Context(), id); errors.Is(err, tenant.ErrNotFound) {
		return tenantNotFound(id)()
	} else if err != nil {
		return tenantError("get tenant "+id, err)
	}
	keys, err := a.tenants.ListKeys(r.Context(), id)
	if err != nil {
		return tenantError("list keys of tenant "+id, err)
	}
	if keys == nil {
		keys = []tenant.APIKey{}
	}
	writeJSON(w, http.StatusOK, KeyList{Keys: keys})
	return nil
}

func (a *API) createKey(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("tenant")
	if !tenant.ValidID(id) {
		return tenantNotFound(id)()
	}
	var spec KeySpec
	if err := decodeJSON(w, r, &spec); err != nil {
		return err
	}
	res := authz.Resource{Type: authz.TypeAPIKey, Tenant: id, Role: spec.Role}
	if err := a.allow(r, authz.ActionCreate, res, tenantNotFound(id)); err != nil {
		return err
	}
	if tenant.Role(spec.Role) == tenant.RoleOperator {
		return errorf(http.StatusBadRequest, "operator keys belong to no tenant: give a role of admin, viewer-issuer or read-only")
	}
	k, plain, err := a.tenants.CreateKey(r.Context(), id, tenant.Role(spec.Role), spec.Description)
	if errors.Is(err, tenant.ErrNotFound) {
		return tenantNotFound(id)()
	}
	if err != nil {
		return tenantError("create key for tenant "+id, err)
	}
	writeJSON(w, http.StatusCreated, NewKey{APIKey: k, Key: plain})
	return nil
}

func (a *API) revokeKey(w http.ResponseWriter, r *http.Request) error {
	id, kid := r.PathValue("tenant"), r.PathValue("key")
	notFound := func() error { return errorf(http.StatusNotFound, "api key %q of tenant %q not found", kid, id) }
	if !tenant.ValidID(id) {
		return notFound()
	}
	k, err := a.tenants.GetKey(r.Context(), kid)
	if errors.Is(err, tenant.ErrNotFound) || (err == nil && k.Tenant != id) {
		return notFound()
	}
	if err != nil {
		return tenantError("get key "+kid, err)
	}
	res := authz.Resource{Type: authz.TypeAPIKey, ID: k.ID, Tenant: k.Tenant, Role: string(k.Role)}
	if err := a.allow(r, authz.ActionDelete, res, notFound); err != nil {
		return err
	}
	if err := a.tenants.RevokeKey(r.Context(), kid); err != nil {
		return tenantError("revoke key "+kid, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
