// Package keystore keeps the content keys of channels (DRM: AES-128 keys
// with a 16-byte key ID, ISO/IEC 23001-7) in the NATS JetStream key-value
// bucket onair_keys, sealed by a kms.KMS, so no content key is ever stored
// in plain text.
//
// # Records
//
// A key is stored under "<channel>.<kid as 32 hex digits>" as JSON. The
// key ID, channel, scheme, period and creation time are in clear (they
// are needed to find and list keys); the key and its IV are only in
// "sealed", a kms blob of key||IV whose AAD is
//
//	"onair-keystore-v1\n" channel "\n" kid-hex "\n" scheme "\n" period
//
// so a blob moved to another channel or key ID, or a record whose scheme
// or period was edited, fails to decrypt. For example
//
//	{"v":1,"channel":"news","kid":"0f1e...","scheme":"cbcs","period":1200,
//	 "created":"2026-11-01T10:00:00Z","sealed":"b2ttcwEFbG9jYWwRa2Vr..."}
//
// A key ID names one key value forever: Put refuses a second, different
// key under an existing key ID (players and license servers cache by key
// ID), and Rewrap (re-sealing under the current KEK) is the only update.
//
// # Cache
//
// Get keeps decrypted keys in a bounded in-memory cache (Config.CacheSize
// entries, each for Config.CacheTTL) so the license and packaging paths do
// not call the KMS per request. Because key IDs are immutable, a cached
// key is never stale; a key deleted by another process may still be
// served from the cache for up to CacheTTL. Plain keys live in process
// memory only.
//
// # Imports and concurrency
//
// keystore imports internal/kms and the NATS client. A Store is safe for
// concurrent use once Open has returned.
package keystore
