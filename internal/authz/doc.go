// Package authz decides whether an API principal may perform an action on a
// resource, with attribute-based policies written in Cedar
// (https://docs.cedarpolicy.com) rather than checks scattered over handlers.
//
// # Model
//
// The principal of every request is an ApiKey entity with two attributes:
// tenant (the key's tenant, "" for operator keys) and role. Roles:
//
//	operator       runs the server: everything, every tenant, server-wide
//	admin          everything inside its own tenant, except creating or
//	               deleting the tenant itself
//	viewer-issuer  list, read and issue_token inside its own tenant (a
//	               ticketing or paywall backend that hands out viewer tokens)
//	read-only      list and read inside its own tenant (dashboards, monitoring)
//
// Resources are entities of type Channel, Key (a channel's content keys),
// Session (a viewer session), Tenant, ApiKey (an API key record), Event (the
// event log) or Server (server-wide endpoints such as /metrics), each with a
// tenant attribute: the tenant that owns it, or "" for server-wide objects,
// which only operators reach. A Tenant's tenant attribute is its own id. An
// ApiKey resource also has the role of the key acted upon. For list and
// create the resource is the collection: ID "" and Tenant the tenant whose
// objects are listed or created in.
//
// Actions (Cedar Action::"name"):
//
//	list            enumerate resources of a type in a tenant
//	read            read one resource
//	create          create a resource
//	update          change a resource's configuration
//	delete          delete a resource
//	control         operate a channel: start, stop, pipeline and input actions
//	issue_token     issue a signed viewer token for a channel
//	read_keys       read a channel's content keys (key material)
//	revoke_session  end a viewer session
//
// The built-in policies (policies.cedar, embedded) are named by @id
// annotations: "operator", "tenant-admin", "tenant-viewer-issuer",
// "tenant-read-only" (permits) and "tenant-lifecycle-operator-only" (a
// forbid). An operator may add policies from a Cedar file (Config.PolicyFile):
// each needs a unique @id, and every policy is validated against the schema
// (onair.cedarschema, embedded) when the Authorizer is built, so a misspelt
// action or attribute fails at startup. A forbid wins over any permit;
// without a matching permit the answer is deny.
//
// A Decision names the policies that decided it (Reasons: the permits that
// allowed it, or the forbids that denied it; none for the default deny), so
// API errors and audit logs can say why.
//
// # Imports and concurrency
//
// authz imports no internal package; it depends on cedar-go (pinned at
// v1.9.0; schema validation uses its x/exp/schema packages, which carry no
// compatibility promise, so re-run these tests when upgrading) and the
// Prometheus client. An Authorizer is immutable after New and safe for
// concurrent use; Authorize does not block and needs no context.
package authz
