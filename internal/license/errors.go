package license

import "errors"

// Refusal causes. Every error Verifier.Verify returns wraps exactly one
// of the token errors; the handler adds the others. Callers branch with
// errors.Is and label metrics with Reason. No message carries a token or
// key material.
var (
	// ErrNoToken: the request carries no token.
	ErrNoToken = errors.New("license: no token")
	// ErrBadToken: the token is malformed, too long, signed with another
	// algorithm than EdDSA, fails its signature, or has a wrong or missing
	// iss, aud, sub, iat, nbf, jti, tenant, channel or session claim, or a
	// lifetime over the verifier's MaxTTL.
	ErrBadToken = errors.New("license: invalid token")
	// ErrUnknownKid: the token's kid header names no key of the
	// verifier's key set (never issued, or rotated out).
	ErrUnknownKid = errors.New("license: unknown token key id")
	// ErrExpired: now is at or past exp + leeway.
	ErrExpired = errors.New("license: token expired")
	// ErrNotYetValid: now is before nbf (or iat) - leeway.
	ErrNotYetValid = errors.New("license: token not yet valid")
	// ErrWrongChannel: the token is for another channel than the request.
	ErrWrongChannel = errors.New("license: token is for another channel")
	// ErrRevoked is what a SessionCheck returns (wrapped) for a session
	// that may no longer receive keys. Any other SessionCheck error means
	// the check itself failed: the request is refused all the same (503).
	ErrRevoked = errors.New("license: session revoked")
	// ErrUnknownKey is what a Keys implementation returns (wrapped) when
	// the channel has no content key with the requested key ID.
	ErrUnknownKey = errors.New("license: unknown content key")
)

// Reason returns a short stable label for err, for metric labels and
// log attributes: "ok" for nil; "no_token", "bad_token", "unknown_kid",
// "expired", "not_yet_valid", "wrong_channel", "revoked", "unknown_key";
// "error" for anything else.
func Reason(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrNoToken):
		return reasonNoToken
	case errors.Is(err, ErrBadToken):
		return reasonBadToken
	case errors.Is(err, ErrUnknownKid):
		return reasonUnknownKid
	case errors.Is(err, ErrExpired):
		return reasonExpired
	case errors.Is(err, ErrNotYetValid):
		return reasonNotYetValid
	case errors.Is(err, ErrWrongChannel):
		return reasonWrongChannel
	case errors.Is(err, ErrRevoked):
		return reasonRevoked
	case errors.Is(err, ErrUnknownKey):
		return reasonUnknownKey
	}
	return reasonError
}

// Refusal reasons: the reason label of onair_license_refused_total and
// the result label of onair_license_requests_total (beside "ok").
const (
	reasonNoToken      = "no_token"      // 401
	reasonBadToken     = "bad_token"     // 401
	reasonUnknownKid   = "unknown_kid"   // 401
	reasonExpired      = "expired"       // 401
	reasonNotYetValid  = "not_yet_valid" // 401
	reasonWrongChannel = "wrong_channel" // 403
	reasonRevoked      = "revoked"       // 403
	reasonUnknownKey   = "unknown_key"   // 404
	reasonNotFound     = "not_found"     // 404: path is no license URL
	reasonBadRequest   = "bad_request"   // 400
	reasonTooLarge     = "too_large"     // 413
	reasonMethod       = "method"        // 405
	reasonUnavailable  = "unavailable"   // 503: SessionCheck or Keys failed
	reasonError        = "error"         // 500: e.g. a content key of the wrong size
)

// allReasons lists every refusal reason, to pre-create metric series.
func allReasons() []string {
	return []string{
		reasonNoToken, reasonBadToken, reasonUnknownKid, reasonExpired, reasonNotYetValid,
		reasonWrongChannel, reasonRevoked, reasonUnknownKey, reasonNotFound, reasonBadRequest,
		reasonTooLarge, reasonMethod, reasonUnavailable, reasonError,
	}
}
