package license

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Verification limits.
const (
	// DefaultLeeway is the clock skew allowed on exp, nbf and iat.
	DefaultLeeway = 5 * time.Second
	// maxLeeway bounds VerifierConfig.Leeway.
	maxLeeway = time.Minute
	// MaxTokenSize is the longest token Verify parses, in bytes; longer
	// ones are refused before any decoding. An issued token is about 400.
	MaxTokenSize = 2048
)

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// Keys is the initial key set. Default: empty (every token refused
	// with ErrUnknownKid until SetKeys).
	Keys *KeySet
	// Leeway extends exp and brings nbf and iat forward, for clock skew
	// between issuer and verifier. Default (0) DefaultLeeway, 5 s; at
	// most 1 min.
	Leeway time.Duration
	// MaxTTL is the longest token lifetime (exp - iat) accepted: a token
	// signed for longer is refused, whoever signed it. Default
	// DefaultMaxTTL (1 h).
	MaxTTL time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Verifier checks viewer tokens. It is safe for concurrent use, SetKeys
// included.
type Verifier struct {
	keys   atomic.Pointer[KeySet]
	maxTTL time.Duration
	parser *jwt.Parser
}

// NewVerifier returns a verifier for cfg.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.Leeway < 0 || cfg.Leeway > maxLeeway {
		return nil, fmt.Errorf("new verifier: leeway %v: want 0 to %v", cfg.Leeway, maxLeeway)
	}
	if cfg.MaxTTL < 0 {
		return nil, fmt.Errorf("new verifier: negative max ttl %v", cfg.MaxTTL)
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.MaxTTL == 0 {
		cfg.MaxTTL = DefaultMaxTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &Verifier{maxTTL: cfg.MaxTTL}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithNotBeforeRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(TokenIssuer),
		jwt.WithAudience(TokenAudience),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithStrictDecoding(),
	)
	v.SetKeys(cfg.Keys)
	return v, nil
}

// SetKeys replaces the key set at once: tokens verified after it returns
// use ks only. A nil ks is an empty set. To rotate, publish a set with
// the old and the new key, move the Issuer to the new one, and once the
// old key's tokens have expired publish a set without it.
func (v *Verifier) SetKeys(ks *KeySet) {
	if ks == nil {
		ks = &KeySet{}
	}
	v.keys.Store(ks)
}

// Keys returns the current key set.
func (v *Verifier) Keys() *KeySet { return v.keys.Load() }

// errNoKid is a keyfunc error: the header has no usable kid.
var errNoKid = errors.New("no kid header")

// Verify checks a token (the compact JWS, RFC 7515) and returns its
// claims. In order: size, form, alg (EdDSA only: "none", HMAC and every
// other algorithm are refused before any key is looked up), kid in the
// key set, Ed25519 signature, then exp (required), nbf (required), iat
// (required, not in the future), iss, aud, the private claims, and a
// lifetime of at most MaxTTL. Each error wraps exactly one of
// ErrNoToken, ErrBadToken, ErrUnknownKid, ErrExpired, ErrNotYetValid.
func (v *Verifier) Verify(token string) (*Claims, error) {
	if token == "" {
		return nil, fmt.Errorf("verify token: %w", ErrNoToken)
	}
	if len(token) > MaxTokenSize {
		return nil, fmt.Errorf("verify token: %d bytes, more than %d: %w", len(token), MaxTokenSize, ErrBadToken)
	}
	ks := v.keys.Load()
	var c Claims
	_, err := v.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errNoKid
		}
		pub, ok := ks.Key(kid)
		if !ok {
			return nil, ErrUnknownKid
		}
		return pub, nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify token: %w", classify(err))
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("verify token: %w: %w", ErrBadToken, err)
	}
	if life := c.ExpiresAt.Sub(c.IssuedAt.Time); life > v.maxTTL {
		return nil, fmt.Errorf("verify token: lifetime %v over %v: %w", life, v.maxTTL, ErrBadToken)
	}
	return &c, nil
}

// classify maps a jwt error onto exactly one sentinel. A token wrong in
// form or content is ErrBadToken even when it has also expired; timing
// errors are reported only for otherwise good tokens. The jwt messages
// name what failed, never a claim's value.
func classify(err error) error {
	var kind error
	switch {
	case errors.Is(err, ErrUnknownKid):
		return ErrUnknownKid
	case errors.Is(err, jwt.ErrTokenMalformed), errors.Is(err, jwt.ErrTokenUnverifiable),
		errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenInvalidIssuer),
		errors.Is(err, jwt.ErrTokenInvalidAudience), errors.Is(err, jwt.ErrTokenRequiredClaimMissing),
		errors.Is(err, jwt.ErrInvalidType):
		kind = ErrBadToken
	case errors.Is(err, jwt.ErrTokenExpired):
		kind = ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		kind = ErrNotYetValid
	default:
		kind = ErrBadToken
	}
	return fmt.Errorf("%w: %s", kind, err.Error())
}
