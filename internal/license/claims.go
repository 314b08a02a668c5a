package license

import (
	"fmt"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"onair/internal/live"
)

// Fixed registered claims of every viewer token.
const (
	// TokenIssuer is the iss claim.
	TokenIssuer = "onair"
	// TokenAudience is the aud claim: tokens for other onair audiences
	// (or other services sharing a key) are refused here.
	TokenAudience = "onair-license"
)

// maxLabel is the longest tenant or session ID accepted, in bytes.
const maxLabel = 128

// Claims are the claims of a viewer token (RFC 7519): the registered
// ones, with iss = TokenIssuer, aud = [TokenAudience], sub = Session,
// exp, nbf and iat in whole seconds, jti random; and the viewer's tenant,
// channel and playback session.
type Claims struct {
	// Tenant owns the channel. 1-128 bytes of printable UTF-8.
	Tenant string `json:"tenant"`
	// Channel is the only channel whose keys the token unlocks; a channel
	// name as internal/live.ValidChannelName defines it.
	Channel string `json:"channel"`
	// Session is the viewer's playback session ID (also the sub claim),
	// which a SessionCheck can revoke. 1-128 bytes of printable UTF-8.
	Session string `json:"session"`
	jwt.RegisteredClaims
}

// check reports what is wrong with the claims beyond what the jwt
// validator checks (signature, iss, aud, exp, nbf, iat): the private
// claims and the registered ones every viewer token must have.
func (c *Claims) check() error {
	switch {
	case !validLabel(c.Tenant):
		return fmt.Errorf("tenant claim: want 1-%d bytes of printable UTF-8", maxLabel)
	case !live.ValidChannelName(c.Channel):
		return fmt.Errorf("channel claim: not a channel name")
	case !validLabel(c.Session):
		return fmt.Errorf("session claim: want 1-%d bytes of printable UTF-8", maxLabel)
	case c.Subject != c.Session:
		return fmt.Errorf("sub claim differs from the session claim")
	case c.ID == "" || len(c.ID) > maxLabel:
		return fmt.Errorf("jti claim: want 1-%d bytes", maxLabel)
	case c.IssuedAt == nil:
		return fmt.Errorf("no iat claim")
	}
	return nil
}

// validLabel reports whether s is a tenant or session ID: 1-128 bytes of
// valid UTF-8 without control characters (so it is safe in logs).
func validLabel(s string) bool {
	if s == "" || len(s) > maxLabel || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}
