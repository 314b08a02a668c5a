package session

import "errors"

// Errors callers branch on. Other errors are storage or KMS trouble
// (answer 503, not 4xx).
var (
	// ErrNotFound: no such session, or it expired.
	ErrNotFound = errors.New("session not found")
	// ErrExists: Create with the id of a stored session.
	ErrExists = errors.New("session already exists")
	// ErrRevoked: Check or Touch on a revoked session; Check also on a
	// missing or expired one (the error then wraps ErrNotFound too).
	ErrRevoked = errors.New("session revoked")
	// ErrInvalid: a bad tenant, channel, id or field.
	ErrInvalid = errors.New("invalid session")
)
