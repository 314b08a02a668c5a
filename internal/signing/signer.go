package signing

import (
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Names of the token's carriers. One name for both: a token is one
// string wherever it travels. Edges and caches must leave ParamName out of
// their cache keys (it identifies a viewer, not an object).
const (
	// ParamName is the URL query parameter carrying a token.
	ParamName = "onair_token"
	// CookieName is the cookie carrying a token.
	CookieName = "onair_token"
)

// Signer makes tokens with one Ed25519 private key and its key ID. It is
// immutable and safe for concurrent use.
type Signer struct {
	kid string
	key ed25519.PrivateKey
}

// NewSigner returns a signer for the private key, whose public key
// verifiers know under kid (see ValidKid).
func NewSigner(kid string, key ed25519.PrivateKey) (*Signer, error) {
	if !ValidKid(kid) {
		return nil, fmt.Errorf("new signer: key id %q: want 1-%d characters of A-Z a-z 0-9 - _", kid, maxKid)
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("new signer: %d-byte key, want an Ed25519 private key (%d)", len(key), ed25519.PrivateKeySize)
	}
	return &Signer{kid: kid, key: slices.Clone(key)}, nil
}

// Kid returns the signer's key ID.
func (s *Signer) Kid() string { return s.kid }

// PublicKey returns the public key verifiers need.
func (s *Signer) PublicKey() ed25519.PublicKey {
	return slices.Clone(s.key.Public().(ed25519.PublicKey))
}

// Sign returns a token granting p. A policy the package does not accept
// (see Policy) gives an error wrapping ErrInvalidPolicy. The same policy
// and key always give the same token (Ed25519 is deterministic and the
// policy encoding canonical).
func (s *Signer) Sign(p Policy) (string, error) {
	p, err := p.normalize()
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	policy := appendPolicy(nil, p)
	if len(policy) > MaxPolicySize {
		return "", fmt.Errorf("sign: %w: policy is %d bytes, limit %d", ErrInvalidPolicy, len(policy), MaxPolicySize)
	}
	sig := ed25519.Sign(s.key, appendMessage(nil, s.kid, policy))
	var b strings.Builder
	b.Grow(b64.EncodedLen(len(policy)) + sigLen + len(s.kid) + 2)
	b.WriteString(b64.EncodeToString(policy))
	b.WriteByte('.')
	b.WriteString(b64.EncodeToString(sig))
	b.WriteByte('.')
	b.WriteString(s.kid)
	return b.String(), nil
}

// SignURL returns rawURL with a token granting p in its ParamName query
// parameter (replacing any already there; other parameters keep their
// order and encoding). The URL's path must match p.Resource: a URL the
// token would not open is a caller's mistake, reported as an error.
func (s *Signer) SignURL(rawURL string, p Policy) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("sign url: %w", err)
	}
	tok, err := s.Sign(p)
	if err != nil {
		return "", fmt.Errorf("sign url: %w", err)
	}
	if path, ok := cleanPath(u.EscapedPath()); !ok || !matchPattern(p.Resource, path) {
		return "", fmt.Errorf("sign url: %w: path %q does not match resource %q", ErrInvalidPolicy, u.EscapedPath(), p.Resource)
	}
	u.RawQuery = setParam(u.RawQuery, ParamName, tok)
	return u.String(), nil
}

// setParam returns the raw query with every name parameter removed and
// name=value (value needing no escaping) appended.
func setParam(rawQuery, name, value string) string {
	var kept []string
	for _, kv := range strings.Split(rawQuery, "&") {
		if kv == "" {
			continue
		}
		if k, _, _ := strings.Cut(kv, "="); queryKey(k) == name {
			continue
		}
		kept = append(kept, kv)
	}
	return strings.Join(append(kept, name+"="+value), "&")
}

// CookieOptions are the attributes of a token cookie that depend on the
// deployment rather than on the policy.
type CookieOptions struct {
	// Insecure leaves out the Secure attribute, for plain-HTTP test
	// setups. Default false: the cookie is only sent over HTTPS.
	Insecure bool
	// Domain, if set, is the cookie's Domain attribute (e.g.
	// "cdn.example.com" to cover every edge under it). Default: host-only.
	Domain string
	// SameSite overrides the default http.SameSiteLaxMode. Lax cookies
	// are not sent with a player's cross-site requests (a page on
	// another registrable domain than the edge); those need
	// http.SameSiteNoneMode, which browsers accept only with Secure.
	SameSite http.SameSite
}

// Cookie returns a cookie carrying a token granting p: Path is the
// pattern's fixed directory prefix ("/live/news/" for "/live/news/*"),
// Expires the policy's expiry, HttpOnly, SameSite=Lax (unless
// o.SameSite), and Secure unless o.Insecure.
func (s *Signer) Cookie(p Policy, o CookieOptions) (*http.Cookie, error) {
	tok, err := s.Sign(p)
	if err != nil {
		return nil, fmt.Errorf("sign cookie: %w", err)
	}
	p, _ = p.normalize()
	return tokenCookie(tok, p, o), nil
}

// tokenCookie returns the cookie carrying tok, which grants the
// normalized policy p.
func tokenCookie(tok string, p Policy, o CookieOptions) *http.Cookie {
	sameSite := o.SameSite
	if sameSite == 0 {
		sameSite = http.SameSiteLaxMode
	}
	return &http.Cookie{
		Name:     CookieName,
		Value:    tok,
		Path:     cookiePath(p.Resource),
		Domain:   o.Domain,
		Expires:  p.Expires,
		HttpOnly: true,
		Secure:   !o.Insecure,
		SameSite: sameSite,
	}
}
