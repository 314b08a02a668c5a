package license

import "context"

// KeySize is the size of every content key: AES-128, for CENC (cenc and
// cbcs, ISO/IEC 23001-7) and HLS AES-128 (RFC 8216 section 5.2) alike.
const KeySize = 16

// Keys finds content keys. The handler asks only for the channel of the
// request's path, which it has checked against the token's channel.
type Keys interface {
	// Key returns the 16-byte content key with key ID kid of channel, or
	// an error wrapping ErrUnknownKey when the channel has none (any
	// other error is a failure of the lookup and answered 503). It must
	// be safe for concurrent use and honour ctx (the request's).
	Key(ctx context.Context, channel string, kid [16]byte) ([]byte, error)
}

// SessionCheck decides whether a viewer's playback session may still
// receive keys, after its token has verified. It returns nil to allow,
// an error wrapping ErrRevoked to refuse (403), any other error when it
// cannot tell (refused all the same, 503: the endpoint fails closed). It
// must be safe for concurrent use and honour ctx.
type SessionCheck func(ctx context.Context, tenant, channel, session string) error
