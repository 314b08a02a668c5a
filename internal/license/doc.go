// Package license is onair's DRM license endpoint: it hands content keys
// to players, and only to viewers with a valid signed viewer token for
// the channel. It serves the two key deliveries onair's packager
// encrypts for:
//
//   - CMAF with Common Encryption (ISO/IEC 23001-7, schemes cenc and
//     cbcs), played in browsers through Encrypted Media Extensions with
//     the W3C Clear Key key system (org.w3.clearkey).
//   - HLS AES-128 whole-segment encryption (RFC 8216 section 5.2), whose
//     EXT-X-KEY URI is a key URL of this handler.
//
// # Viewer tokens
//
// A viewer token is a JWT (RFC 7519) in compact JWS form, signed with
// Ed25519 (alg "EdDSA", RFC 8037) and carrying the signing key's ID in
// the kid header. Claims:
//
//	{"tenant":"acme","channel":"news","session":"s-7f3a",
//	 "iss":"onair","sub":"s-7f3a","aud":["onair-license"],
//	 "exp":1767225900,"nbf":1767225600,"iat":1767225600,"jti":"..."}
//
// Issuer signs them with the current private key (load it with
// signing.LoadPrivateKey); lifetimes are short (DefaultTTL 5 min, at most
// MaxTTL, 1 h by default). Verifier holds a KeySet of public keys by kid
// (LoadKeySet reads the PEM files with signing.LoadPublicKey), swapped
// atomically by SetKeys: to rotate keys, publish a set with the old and
// the new key, move the Issuer to the new key, and drop the old key once
// its last tokens have expired. Verification accepts only alg EdDSA (so
// "none" and the HS256-with-the-public-key confusion are refused before
// any key is used), requires exp, nbf and iat with 5 s of leeway, checks
// iss, aud, that sub equals the session claim, that tenant, channel,
// session and jti are present and well formed, and that exp - iat is at
// most the verifier's MaxTTL.
//
// # URLs
//
// The handler is mounted at a prefix (HandlerConfig.Prefix, default
// "/license/"; mux.Handle("/license/", h)) and answers
//
//	POST    /license/{channel}/clearkey        Clear Key license
//	GET     /license/{channel}/aes128/{kid}    HLS AES-128 key
//	OPTIONS on either                          CORS preflight (204)
//
// where channel follows live.ValidChannelName and kid is the 16-byte key
// ID as 32 hexadecimal digits. Any other path is 404.
//
// The token comes from the Authorization header, "Bearer <jwt>" (RFC
// 6750 section 2.1), which EME players set on license requests (dash.js
// protData httpRequestHeaders, Shaka request filters, hls.js
// licenseXhrSetup); or, when the request has no Authorization header,
// from the "token" query parameter (RFC 6750 section 2.3), for HLS
// AES-128 key requests, which hls.js makes without custom headers unless
// configured with xhrSetup, and which Safari's native player can never
// give a header: the EXT-X-KEY URI then carries the token, e.g.
// URI="/license/news/aes128/00112233445566778899aabbccddeeff?token=eyJ...".
// A URL token can end up in access logs and Referer headers; its short
// lifetime and its binding to one channel and session are what bound the
// damage. The handler never logs a token.
//
// The channel of the path must be the token's channel claim, and keys
// are only looked up for that channel (Keys). After the token, a
// SessionCheck, if configured, may refuse a revoked session.
//
// # Clear Key
//
// The body is the license request a Clear Key CDM generates (W3C EME,
// section 9.1.3), at most 8 KiB (MaxBody) and 16 distinct key IDs
// (MaxKids):
//
//	{"kids":["ABEiM0RVZneImaq7zN3u_w"],"type":"temporary"}
//
// Key IDs are base64url without padding (22 characters); type, if given,
// must be "temporary". The answer is the license (EME section 9.1.4), a
// JSON Web Key Set with Content-Type application/json:
//
//	{"keys":[{"kty":"oct","kid":"ABEiM0RVZneImaq7zN3u_w","k":"..."}],"type":"temporary"}
//
// It holds the keys the channel has among those asked for: a key ID the
// channel does not have is left out (the CDM then reports that key as
// missing while the others play), and when none is known the answer is
// 404 unknown_key with no key at all.
//
// # AES-128
//
// The answer is the 16 raw key bytes, Content-Type
// application/octet-stream (RFC 8216 section 5.2).
//
// # Refusals
//
// Every answer carries Cache-Control: no-store. A refusal carries no key
// material: its body is {"error":"<reason>"} (application/json), counted
// in onair_license_refused_total{reason} and
// onair_license_requests_total{kind,result}, and logged with reason,
// channel and remote address (and, after a good token, tenant, session
// and jti), at most once per reason per HandlerConfig.LogEvery:
//
//	no_token, bad_token, unknown_kid,      401, WWW-Authenticate: Bearer
//	expired, not_yet_valid
//	wrong_channel, revoked                 403
//	unknown_key, not_found (path)          404
//	bad_request                            400 (JSON, key IDs, type, too many kids)
//	too_large                              413 (body over MaxBody)
//	method                                 405 with Allow
//	unavailable                            503 (SessionCheck or Keys failed)
//	error                                  500 (Keys gave a key that is not 16 bytes)
//
// Checks run in the order method, token, channel, session, body, keys,
// so a client without a valid token learns nothing about keys or body
// rules.
//
// # CORS
//
// The player page may come from another origin than the license URL.
// Every answer carries Access-Control-Allow-Origin for an allowed origin
// (HandlerConfig.AllowOrigins, default "*"), and an OPTIONS preflight is
// answered 204 with Allow-Methods, Allow-Headers: Authorization,
// Content-Type, and Max-Age. "*" is safe here because the credential is a
// header or URL token, never a cookie: credentials are never allowed.
//
// # Imports and concurrency
//
// license imports the standard library, golang-jwt/jwt/v5, the
// Prometheus client, and internal/signing (key files, key ID grammar),
// internal/live (channel names) and internal/clientip. Issuer and KeySet
// are immutable; Verifier and Handler are safe for concurrent use, and
// Verifier.SetKeys may run while requests are served. Nothing here
// starts a goroutine.
package license
