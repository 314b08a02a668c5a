// Package tenant stores onair's tenants and their API keys, and
// authenticates the keys that API requests present.
//
// A tenant owns channels, inputs, content keys and viewer sessions (the
// owning packages record the tenant id; this package only knows tenants and
// keys). Its id is a slug, ^[a-z0-9][a-z0-9-]{0,62}$, the same rule as
// channel names, so it is safe in URLs, NATS subjects and object keys.
//
// # API keys
//
// A key is presented as onair_<keyid>_<secret>: keyid is 16 lowercase hex
// digits (not secret: it names the key in logs and lists), secret is 32
// random bytes in unpadded base64url (43 characters, may contain '_' and
// '-'). The key id is the lookup; the secret is stored only as a SHA-256
// hash and compared in constant time. Plaintext is returned once, by
// CreateKey, and never stored or logged.
//
// Roles (authz enforces what they allow; see internal/authz):
//
//	operator       above tenants: every tenant and the server itself. An
//	               operator key has no tenant (Tenant == "").
//	admin          everything inside its tenant except creating or deleting
//	               the tenant
//	viewer-issuer  reads its tenant and issues viewer tokens (a ticketing
//	               or paywall backend)
//	read-only      reads its tenant (dashboards, monitoring)
//
// Revoking a key keeps its record (with the revocation time) so that
// Authenticate can say "revoked" rather than "unknown", and ListKeys shows
// it. DeleteTenant refuses while the tenant has unrevoked keys (ErrHasKeys):
// revoke them first; the revoked records go with the tenant. DeleteTenant
// does not know about channels: callers check that the tenant owns none.
//
// # Storage and caching
//
// Tenants and key records live in the JetStream KV bucket onair_tenants
// ("tenant.<id>", "apikey.<keyid>"), so every node of a cluster sees the
// same keys. Authenticate remembers keys it verified for Config.CacheTTL
// (default 5 s, at most Config.CacheSize keys): a revocation made through
// this Store applies at once, one made on another node within CacheTTL.
//
// # Imports and concurrency
//
// tenant imports internal/authz (for the role names) and the NATS client.
// A Store is safe for concurrent use. New does no I/O: the bucket is created
// or bound on first use, so every method takes a context.
package tenant
