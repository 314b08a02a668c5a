package license

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"onair/internal/live"
	"onair/internal/signing"
)

// Token lifetimes.
const (
	// DefaultTTL is the lifetime of a token issued with ttl 0.
	DefaultTTL = 5 * time.Minute
	// DefaultMaxTTL is the longest lifetime an Issuer issues and a
	// Verifier accepts unless configured otherwise.
	DefaultMaxTTL = time.Hour
)

// IssuerConfig configures an Issuer.
type IssuerConfig struct {
	// Kid is the key ID written in every token's kid header; verifiers
	// find the public key by it. signing.ValidKid grammar. Required.
	Kid string
	// Key signs the tokens (load it with signing.LoadPrivateKey).
	// Required.
	Key ed25519.PrivateKey
	// TTL is the lifetime of a token issued with ttl 0. Default
	// DefaultTTL (5 min).
	TTL time.Duration
	// MaxTTL is the longest lifetime Issue grants. Default DefaultMaxTTL
	// (1 h). Keep it at most the verifiers' MaxTTL.
	MaxTTL time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Issuer signs viewer tokens with one Ed25519 key. It is immutable and
// safe for concurrent use. To rotate, add the new public key to every
// verifier's key set, then replace the Issuer with one for the new key,
// and drop the old public key once its tokens have expired (MaxTTL).
type Issuer struct {
	kid    string
	key    ed25519.PrivateKey
	ttl    time.Duration
	maxTTL time.Duration
	now    func() time.Time
}

// NewIssuer returns an issuer for cfg.
func NewIssuer(cfg IssuerConfig) (*Issuer, error) {
	if !signing.ValidKid(cfg.Kid) {
		return nil, fmt.Errorf("new issuer: key id %q: want 1-32 characters of A-Z a-z 0-9 - _", cfg.Kid)
	}
	if len(cfg.Key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("new issuer: key is %d bytes, want an Ed25519 private key (%d)", len(cfg.Key), ed25519.PrivateKeySize)
	}
	i := &Issuer{kid: cfg.Kid, key: cfg.Key, ttl: cfg.TTL, maxTTL: cfg.MaxTTL, now: cfg.Now}
	if i.ttl == 0 {
		i.ttl = DefaultTTL
	}
	if i.maxTTL == 0 {
		i.maxTTL = DefaultMaxTTL
	}
	if i.now == nil {
		i.now = time.Now
	}
	switch {
	case i.maxTTL < time.Second:
		return nil, fmt.Errorf("new issuer: max ttl %v: want at least 1s", cfg.MaxTTL)
	case i.ttl < time.Second || i.ttl > i.maxTTL:
		return nil, fmt.Errorf("new issuer: ttl %v: want 1s to the max ttl %v", cfg.TTL, i.maxTTL)
	}
	return i, nil
}

// Kid returns the key ID the issuer signs with.
func (i *Issuer) Kid() string { return i.kid }

// PublicKey returns the public half of the issuer's key, for a
// verifier's key set.
func (i *Issuer) PublicKey() ed25519.PublicKey {
	return i.key.Public().(ed25519.PublicKey)
}

// Issue signs a token that lets the viewer's session fetch the keys of
// channel until the returned expiry: iat = nbf = now, exp = now + ttl,
// in whole seconds (ttl 0: the issuer's TTL; more than MaxTTL or less
// than 1 s is an error). tenant and session are 1-128 bytes of printable
// UTF-8; channel follows live.ValidChannelName.
func (i *Issuer) Issue(tenant, channel, session string, ttl time.Duration) (string, time.Time, error) {
	if ttl == 0 {
		ttl = i.ttl
	}
	switch {
	case ttl < time.Second || ttl > i.maxTTL:
		return "", time.Time{}, fmt.Errorf("issue token: ttl %v: want 1s to %v", ttl, i.maxTTL)
	case !validLabel(tenant):
		return "", time.Time{}, fmt.Errorf("issue token: tenant: want 1-%d bytes of printable UTF-8", maxLabel)
	case !live.ValidChannelName(channel):
		return "", time.Time{}, fmt.Errorf("issue token: channel %q is not a channel name", channel)
	case !validLabel(session):
		return "", time.Time{}, fmt.Errorf("issue token: session: want 1-%d bytes of printable UTF-8", maxLabel)
	}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", time.Time{}, fmt.Errorf("issue token: jti: %w", err)
	}
	now := i.now().UTC().Truncate(time.Second)
	exp := now.Add(ttl.Truncate(time.Second))
	c := Claims{
		Tenant:  tenant,
		Channel: channel,
		Session: session,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    TokenIssuer,
			Subject:   session,
			Audience:  jwt.ClaimStrings{TokenAudience},
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        base64.RawURLEncoding.EncodeToString(id[:]),
		},
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = i.kid
	s, err := t.SignedString(i.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue token: %w", err)
	}
	return s, exp, nil
}
