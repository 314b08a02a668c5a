// Package session keeps onair's viewer sessions: a session is created when
// the API issues a viewer token for a channel, is refreshed by playback,
// expires when idle, can be listed per channel and revoked. Edges refuse a
// revoked session's token within seconds, through an in-memory set fed by
// a watch on the sessions bucket (Revocations).
//
// # Storage
//
// Sessions live in the JetStream KV bucket onair_sessions (Config.Bucket)
// under "<tenant>.<channel>.<id>", "_" standing for the empty tenant
// (tenant ids and channel names are ^[a-z0-9][a-z0-9-]{0,62}$, session ids
// ^[A-Za-z0-9_-]{1,64}$, so keys are valid subjects and never collide).
// The value is JSON; for example
//
//	{"v":1,"id":"q8cH3kq2Tg6t1v2Qv0xWzA","tenant":"acme","channel":"news",
//	 "created":"2026-11-01T10:00:00Z","refreshed":"2026-11-01T10:40:00Z",
//	 "token_expires":"2026-11-01T14:00:00Z","revoked":"0001-01-01T00:00:00Z",
//	 "dek":"20261101","pii":"3q2+7w..."}
//
// Times are UTC; "revoked" is the zero time for a live session.
//
// # Expiry
//
// Every write carries its own JetStream message TTL (Nats-TTL, whole
// seconds; the bucket has no bucket-wide MaxAge): Create, Touch and Revoke
// restart the record's life, so a session idle for Config.TTL (default
// 6 h) disappears with its encrypted personal data. A revoked record is
// written with TTL max(Config.TTL, token expiry + Config.Leeway - now), so
// it outlives the token: were it to expire first, edges would drop it from
// their revoked sets and accept the token again. (A bucket-wide MaxAge
// would cut that short: JetStream applies MaxAge to messages with a longer
// TTL too.) The bucket has limit markers on (LimitMarkerTTL), so an expiry
// leaves a short-lived marker that watchers see as a purge: edges learn of
// expiries as of deletions. Touch and Revoke are read-modify-write with
// the expected last revision, so a Touch racing a Revoke cannot undo it.
//
// # Personal data
//
// IP, user agent and user id (PII) are never stored in clear. "pii" is
// AES-256-GCM nonce||ciphertext of their JSON, with the KV key as
// additional data (a blob copied to another session fails), under the
// data key "dek": one key per UTC day (id YYYYMMDD), made with
// kms.KMS.GenerateDataKey and stored wrapped in the bucket
// onair_session_keys (Config.KeyBucket, no TTL) as "dek.<id>". Nodes agree
// on the day's key through KV Create (the loser reads the winner's);
// plain keys are cached in memory only. Touch and Revoke move a record to
// the current day's key, so a live record's key is at most TTL + 24 h
// old. When a node makes a new day's key it purges keys older than
// TTL + 48 h, and every node stops using such keys from memory:
// crypto-shredding, the personal data of expired sessions (whose
// ciphertext may linger in JetStream's files until compaction) becomes
// unreadable. A session still stored under a shredded key (revoked, kept
// for a long-lived token) reads with empty PII. The wrapped key's bytes
// may also linger in the key bucket's files, but they are useless without
// the KMS. A node whose KMS cannot unwrap a data key gets the KMS error
// (kms.ErrUnknownKEK, kms.ErrDecrypt), never another session's data.
//
// # Edges
//
// Revocations.Run watches the whole sessions bucket (current values, then
// changes) and keeps the set of revoked tenant/channel/id; a session
// leaves it when its record is deleted, purged (DeleteChannel) or expires
// (the expiry marker), or, as a fallback, when its token expired more
// than the leeway ago (a periodic sweep). Ready is closed once the values
// stored at start are loaded. A failed watch is restarted with backoff;
// the set in use is replaced whole once the new watch has loaded. An edge
// that starts before any session exists is ready with an empty set and
// binds the bucket when it appears.
//
// # Hot paths
//
// Touch writes at most once per TTL/8 per session per process (a bounded
// in-memory map), so playback may call it on every request. Check, for the
// license endpoint, reads the bucket on every call (no cache, so a
// revocation applies at once; the license endpoint is low rate). Edges
// call Revocations.Revoked, which neither locks nor allocates.
//
// # Imports and concurrency
//
// session imports internal/kms, internal/live (the channel name rule), the
// NATS client and Prometheus. Store is safe for concurrent use; New does
// no I/O (the buckets are created or updated on first use, so every method
// takes a context). Revocations.Run watches in the caller's goroutine
// until ctx ends; Revoked, Len and Ready are safe from any goroutine.
package session
