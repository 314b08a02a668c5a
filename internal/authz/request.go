package authz

import "github.com/cedar-policy/cedar-go"

// Actions, as named in the policies (Cedar Action::"name"). See the package
// documentation for what each covers.
const (
	ActionList          = "list"
	ActionRead          = "read"
	ActionCreate        = "create"
	ActionUpdate        = "update"
	ActionDelete        = "delete"
	ActionControl       = "control"
	ActionIssueToken    = "issue_token"
	ActionReadKeys      = "read_keys"
	ActionRevokeSession = "revoke_session"
)

// Actions returns every action the policies know, in documentation order.
func Actions() []string {
	return []string{
		ActionList, ActionRead, ActionCreate, ActionUpdate, ActionDelete,
		ActionControl, ActionIssueToken, ActionReadKeys, ActionRevokeSession,
	}
}

// Resource types (Cedar entity types).
const (
	TypeChannel = "Channel"
	TypeKey     = "Key"     // a channel's content keys
	TypeSession = "Session" // a viewer session
	TypeTenant  = "Tenant"
	TypeAPIKey  = "ApiKey" // an API key record
	TypeEvent   = "Event"  // the event log
	TypeServer  = "Server" // server-wide endpoints (metrics, alert webhook)
)

// ResourceTypes returns every resource type the policies know.
func ResourceTypes() []string {
	return []string{TypeChannel, TypeKey, TypeSession, TypeTenant, TypeAPIKey, TypeEvent, TypeServer}
}

func knownType(t string) bool {
	switch t {
	case TypeChannel, TypeKey, TypeSession, TypeTenant, TypeAPIKey, TypeEvent, TypeServer:
		return true
	}
	return false
}

// Roles, as compared by the policies (principal.role). internal/tenant
// stores them on API keys.
const (
	RoleOperator     = "operator"
	RoleAdmin        = "admin"
	RoleViewerIssuer = "viewer-issuer"
	RoleReadOnly     = "read-only"
)

// principalType is the Cedar entity type of every principal.
const principalType = "ApiKey"

// Principal is who asks: an authenticated API key.
type Principal struct {
	// ID is the key id (the <keyid> of onair_<keyid>_<secret>).
	ID string
	// Tenant is the key's tenant; "" for operator keys.
	Tenant string
	// Role is one of the Role constants; anything else is denied.
	Role string
}

// Resource is what the action is on.
type Resource struct {
	// Type is one of the Type constants; anything else is denied.
	Type string
	// ID names the resource within its type (a channel name, a session id);
	// "" for a collection (list, create).
	ID string
	// Tenant owns the resource, or is the tenant listed or created in; ""
	// for server-wide resources, which only operators reach.
	Tenant string
	// Role is the role of the key acted upon, for TypeAPIKey only (so a
	// policy can, say, stop admins from minting admin keys).
	Role string
}

func (p Principal) entity() cedar.Entity {
	return cedar.Entity{
		UID: cedar.NewEntityUID(principalType, cedar.String(p.ID)),
		Attributes: cedar.NewRecord(cedar.RecordMap{
			"tenant": cedar.String(p.Tenant),
			"role":   cedar.String(p.Role),
		}),
	}
}

func (r Resource) entity() cedar.Entity {
	attrs := cedar.RecordMap{"tenant": cedar.String(r.Tenant)}
	if r.Type == TypeAPIKey {
		attrs["role"] = cedar.String(r.Role)
	}
	return cedar.Entity{
		UID:        cedar.NewEntityUID(cedar.EntityType(r.Type), cedar.String(r.ID)),
		Attributes: cedar.NewRecord(attrs),
	}
}

// requestEntities is the entity store of one request: the principal and the
// resource, nothing else (no hierarchy). A map would cost an allocation per
// decision for two entries.
type requestEntities struct {
	principal, resource cedar.Entity
}

// Get implements cedar.EntityGetter. When principal and resource are the
// same key (a key reading its own record) the principal's entity, which
// carries the authenticated attributes, wins.
func (e *requestEntities) Get(uid cedar.EntityUID) (cedar.Entity, bool) {
	switch uid {
	case e.principal.UID:
		return e.principal, true
	case e.resource.UID:
		return e.resource, true
	}
	return cedar.Entity{}, false
}
