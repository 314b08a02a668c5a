// Package signing makes and checks signed playback tokens, in the manner
// of CloudFront's signed URLs and signed cookies, with Ed25519
// signatures (RFC 8032): the control plane signs with a private key,
// edges verify with public keys only, and key IDs let keys rotate.
//
// # Policy
//
// A token grants a Policy: a resource pattern, an expiry, and optionally
// a start time, a client address prefix and opaque session, tenant and
// channel labels. The resource is a path pattern ("/live/news/*"), never
// a URL with a host: edges sit behind varied hostnames and the path is
// what names the object. '*' matches any run of characters, '/'
// included; every other character matches itself ('?' is not a wildcard,
// and not allowed). The pattern is matched against the request's decoded
// path; a path that could reach something else through another server's
// normalization is refused whatever the pattern: dot segments ("..",
// also "%2e%2e" or "..;x"), empty segments, encoded slashes ("%2F") or
// backslashes, a '%' left after decoding, control characters.
//
// The policy is carried as JSON in canonical form: members sorted by
// name, absent ones left out, no whitespace, integer seconds, strings
// from restricted alphabets so no escape is ever needed (this is also the
// RFC 8785 canonical form). For example
//
//	{"channel":"news","expires":1767225600,"ip":"203.0.113.0/24","resource":"/live/news/*"}
//
// Members: channel, tenant, session (optional, 1-64 printable ASCII
// characters other than '"' and '\'); expires (required) and not_before
// (optional), Unix seconds; ip (optional), an IPv4 or IPv6 prefix in
// canonical text with host bits clear; resource (required). The verifier
// accepts exactly this form: an unknown member is refused (a restriction
// a newer signer adds must not be ignored by an older edge).
//
// # Token
//
//	token     = policy "." signature "." kid
//	policy    = base64url(policy JSON)         ; RFC 4648 section 5, no padding, at most 1024 bytes decoded
//	signature = base64url(Ed25519 signature)   ; 64 bytes, 86 characters
//	kid       = 1*32( ALPHA / DIGIT / "-" / "_" )
//
// A token is at most 2048 bytes and uses only URL- and cookie-safe
// characters. The signature covers the key ID too: it is the pure
// Ed25519 signature of the bytes
//
//	"onair-signing-v1\n" kid "\n" policy-JSON
//
// so a token moved to another key ID fails, and any holder of the private
// key can sign without this package (e.g. `openssl pkeyutl -sign -rawin`).
// Tokens are deterministic: one policy and key give one token, and every
// accepted token is byte for byte one the signer made.
//
// One token travels whole, unlike CloudFront's three Policy, Signature
// and Key-Pair-Id parts: a policy can never be paired with another
// place's signature, and edges have one name to strip from cache keys:
//
//   - URL form: the query parameter onair_token (ParamName), e.g.
//     https://edge.example/live/news/master.m3u8?onair_token=eyJ...fQ.3q...Cg.k2026
//     (Signer.SignURL).
//   - Cookie form: the cookie onair_token (CookieName), Path = the
//     pattern's fixed directory prefix ("/live/news/" for "/live/news/*"),
//     Expires = the policy's expiry, HttpOnly, SameSite=Lax (or
//     CookieOptions.SameSite: None for players on another site), Secure
//     unless CookieOptions.Insecure (Signer.Cookie, Claims.Cookie).
//
// # Verification
//
// Verifier.Verify reads the URL parameter first; if present, it alone
// decides. Otherwise the cookies of that name are tried (a browser may
// send several, one per matching path). Checks, in order: size and
// grammar, known key ID, signature, policy form, not expired (now <
// expires + leeway), not before not_before - leeway, client address in
// ip (see Verifier.ClientIP for X-Forwarded-For and trusted proxies),
// path matches the resource. Each refusal wraps one sentinel error
// (ErrMissing, ErrMalformed, ErrUnknownKey, ErrBadSignature, ErrExpired,
// ErrNotYetValid, ErrWrongIP, ErrWrongResource); Reason gives a metric
// label. Error messages never repeat token contents other than a key ID
// that passed the kid grammar. Only signed bytes reach the policy
// parser. Verify allocates little: no reflection, no map for the query.
//
// Keys are PEM files: PKCS #8 private keys as `openssl genpkey -algorithm
// ed25519` writes them, PKIX public keys as `openssl pkey -pubout` writes
// them (LoadPrivateKey, LoadPublicKey, GenerateKeyFiles).
//
// # Imports and concurrency
//
// signing is a leaf: it imports the standard library and internal/clientip. Signer and
// KeySet are immutable; Verifier is safe for concurrent use and its key
// set is replaced atomically by SetKeys (rotation: publish old + new, move
// signers to the new key, drop the old once its tokens have expired).
package signing
