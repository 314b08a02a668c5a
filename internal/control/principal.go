package control

import (
	"context"
	"errors"
	"net/http"

	"onair/internal/authz"
)

// principalKey is the request context key of the authenticated principal.
type principalKey struct{}

// Principals of the operator credentials (the configured token, its
// dashboard cookie, and loopback clients when no token is configured).
var (
	operatorToken = authz.Principal{ID: "operator-token", Role: authz.RoleOperator}
	loopbackUser  = authz.Principal{ID: "loopback", Role: authz.RoleOperator}
)

func withPrincipal(r *http.Request, p authz.Principal) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
}

// principalOf returns the request's principal; ok is false for a request
// that did not pass the auth guard (which then may do nothing).
func principalOf(r *http.Request) (authz.Principal, bool) {
	p, ok := r.Context().Value(principalKey{}).(authz.Principal)
	return p, ok
}

// allow asks the policies whether the request's principal may perform
// action on res. A denial is a 403 naming the action, except that a
// tenant principal asking about another tenant's resource gets notFound
// (a 404 worded like a missing resource), so that the API never tells one
// tenant what another owns.
func (a *API) allow(r *http.Request, action string, res authz.Resource, notFound func() error) error {
	p, ok := principalOf(r)
	if !ok {
		return errorf(http.StatusUnauthorized, "not authenticated")
	}
	if a.authz.Authorize(p, action, res).Allowed {
		return nil
	}
	if p.Tenant != "" && res.Tenant != p.Tenant && notFound != nil {
		return notFound()
	}
	a.log.Info("api request denied by policy", "principal", p.ID, "tenant", p.Tenant, "role", p.Role,
		"action", action, "resource_type", res.Type, "resource", res.ID, "resource_tenant", res.Tenant)
	return errorf(http.StatusForbidden, "a %s key may not %s this %s", p.Role, actionWords(action), res.Type)
}

// permitted reports whether the principal may perform action on res,
// without an error: for filtering lists.
func (a *API) permitted(r *http.Request, action string, res authz.Resource) bool {
	p, ok := principalOf(r)
	return ok && a.authz.Authorize(p, action, res).Allowed
}

// actionWords says an action in a refusal.
func actionWords(action string) string {
	switch action {
	case authz.ActionIssueToken:
		return "issue tokens for"
	case authz.ActionReadKeys:
		return "read the keys of"
	case authz.ActionRevokeSession:
		return "revoke sessions of"
	case authz.ActionControl:
		return "control"
	}
	return action
}

// channelNotFound is the answer for a channel that does not exist or that
// the principal's tenant does not own: the same words either way.
func channelNotFound(name string) func() error {
	return func() error { return errorf(http.StatusNotFound, "channel %q not found", name) }
}

// channelResource looks up the tenant of channel name and returns it as a
// policy resource of type typ. A missing channel is channelNotFound.
func (a *API) channelResource(r *http.Request, typ, name string) (authz.Resource, error) {
	t, err := a.m.ChannelTenant(r.Context(), name)
	if errors.Is(err, ErrNotFound) {
		return authz.Resource{}, channelNotFound(name)()
	}
	if err != nil {
		return authz.Resource{}, managerError("look up channel "+name, err)
	}
	return authz.Resource{Type: typ, ID: name, Tenant: t}, nil
}

// allowChannel authorizes action on channel name (404 if it does not
// exist or is another tenant's).
func (a *API) allowChannel(r *http.Request, action, name string) error {
	res, err := a.channelResource(r, authz.TypeChannel, name)
	if err != nil {
		return err
	}
	return a.allow(r, action, res, channelNotFound(name))
}
