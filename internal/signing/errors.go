package signing

import "errors"

// Refusal reasons. Verify wraps exactly one of them in every error it
// returns, so callers branch with errors.Is and count with Reason. Their
// messages never carry token contents: at most a key ID, which has been
// checked against the kid grammar first.
var (
	// ErrMissing: the request carries no token (no parameter, no cookie).
	ErrMissing = errors.New("signing: no token")
	// ErrMalformed: the token does not follow the grammar or exceeds a
	// size limit, or a signed policy is not in canonical form.
	ErrMalformed = errors.New("signing: malformed token")
	// ErrUnknownKey: the key ID names no key of the verifier's key set.
	ErrUnknownKey = errors.New("signing: unknown key id")
	// ErrBadSignature: the signature does not verify with the named key.
	ErrBadSignature = errors.New("signing: bad signature")
	// ErrExpired: the policy's expires time has passed.
	ErrExpired = errors.New("signing: token expired")
	// ErrNotYetValid: the policy's not_before time has not come yet.
	ErrNotYetValid = errors.New("signing: token not yet valid")
	// ErrWrongIP: the client address is outside the policy's ip prefix
	// (or could not be determined).
	ErrWrongIP = errors.New("signing: client address not allowed")
	// ErrWrongResource: the request path does not match the policy's
	// resource pattern, or is refused as hostile (dot segments, encoded
	// slashes or backslashes, '%' after decoding, control characters).
	ErrWrongResource = errors.New("signing: resource not allowed")
)

// ErrInvalidPolicy is returned by the Signer for a policy it refuses to
// sign (bad pattern, missing expiry, field too long...).
var ErrInvalidPolicy = errors.New("signing: invalid policy")

// Reason returns a short, stable label for err, for metric labels and log
// attributes: "ok" for nil, "missing", "malformed", "unknown_key",
// "bad_signature", "expired", "not_yet_valid", "wrong_ip",
// "wrong_resource", and "error" for anything else.
func Reason(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrMissing):
		return "missing"
	case errors.Is(err, ErrMalformed):
		return "malformed"
	case errors.Is(err, ErrUnknownKey):
		return "unknown_key"
	case errors.Is(err, ErrBadSignature):
		return "bad_signature"
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrNotYetValid):
		return "not_yet_valid"
	case errors.Is(err, ErrWrongIP):
		return "wrong_ip"
	case errors.Is(err, ErrWrongResource):
		return "wrong_resource"
	}
	return "error"
}
