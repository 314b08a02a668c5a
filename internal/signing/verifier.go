package signing

import (
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// maxCookies is how many CookieName cookies Verify tries: a browser sends
// one per matching path, most specific first.
const maxCookies = 4

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// Keys is the initial key set. Default: empty (every token refused
	// with ErrUnknownKey until SetKeys).
	Keys *KeySet
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Leeway extends expires and brings not_before forward, for clock
	// skew between signer and edge. Default 0; never negative.
	Leeway time.Duration
	// TrustedProxies are the prefixes of proxies (load balancers, CDN
	// tiers) whose X-Forwarded-For is believed; see ClientIP. Default:
	// none, so the client is always the TCP peer.
	TrustedProxies []netip.Prefix
}

// Verifier checks tokens on requests. Its methods are safe for
// concurrent use, SetKeys included.
type Verifier struct {
	keys     atomic.Pointer[KeySet]
	now      func() time.Time
	leeway   time.Duration
	proxies  []netip.Prefix
	verified verifiedCache // tokens whose signature checked out
}

// NewVerifier returns a verifier for cfg.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.Leeway < 0 {
		return nil, fmt.Errorf("new verifier: negative leeway %v", cfg.Leeway)
	}
	v := &Verifier{now: cfg.Now, leeway: cfg.Leeway}
	if v.now == nil {
		v.now = time.Now
	}
	for _, p := range cfg.TrustedProxies {
		c, ok := canonicalPrefix(p)
		if !p.IsValid() || !ok {
			return nil, fmt.Errorf("new verifier: trusted proxy prefix %v is not a valid prefix without zone", p)
		}
		v.proxies = append(v.proxies, c)
	}
	v.SetKeys(cfg.Keys)
	return v, nil
}

// SetKeys replaces the key set at once: requests verified after it
// returns use ks only. A nil ks is an empty set. To rotate, publish a set
// with the old and the new key, move signers to the new one, and once the
// old tokens have expired publish a set without the old key.
func (v *Verifier) SetKeys(ks *KeySet) {
	if ks == nil {
		ks = &KeySet{}
	}
	v.keys.Store(ks)
}

// Keys returns the current key set.
func (v *Verifier) Keys() *KeySet { return v.keys.Load() }

// Verify checks the token r carries and returns what it grants. The
// ParamName query parameter is read first: when present (even empty or
// twice, which is malformed) it alone decides. Otherwise up to four
// CookieName cookies are tried in the order sent, and the first accepted
// wins; if none is, the first one's refusal is returned. No token at all
// is ErrMissing. Every error wraps one of the package's Err sentinels.
func (v *Verifier) Verify(r *http.Request) (Claims, error) {
	tok, present, ok := queryToken(r.URL.RawQuery)
	if present {
		if !ok {
			return Claims{}, ErrMalformed
		}
		return v.verify(r, tok, SourceQuery)
	}
	cookies := r.CookiesNamed(CookieName)
	if len(cookies) == 0 {
		return Claims{}, ErrMissing
	}
	var first error
	for i, c := range cookies {
		if i == maxCookies {
			break
		}
		claims, err := v.verify(r, c.Value, SourceCookie)
		if err == nil {
			return claims, nil
		}
		if first == nil {
			first = err
		}
	}
	return Claims{}, first
}

// verify checks one token against r.
func (v *Verifier) verify(r *http.Request, tok string, src Source) (Claims, error) {
	ks := v.keys.Load()
	known, ok := v.verified.get(ks, tok)
	if !ok {
		var err error
		if known, err = v.checkSignature(ks, tok); err != nil {
			return Claims{}, err
		}
		v.verified.put(ks, tok, known)
	}
	p := known.p
	now := v.now()
	if !now.Before(p.Expires.Add(v.leeway)) {
		return Claims{}, ErrExpired
	}
	if !p.NotBefore.IsZero() && now.Before(p.NotBefore.Add(-v.leeway)) {
		return Claims{}, ErrNotYetValid
	}
	if p.IP.IsValid() {
		if a, ok := v.ClientIP(r); !ok || !p.IP.Contains(a) {
			return Claims{}, ErrWrongIP
		}
	}
	if path, ok := cleanPath(r.URL.EscapedPath()); !ok || !matchPattern(p.Resource, path) {
		return Claims{}, ErrWrongResource
	}
	return Claims{Policy: p, Kid: known.kid, Source: src, Token: tok}, nil
}

// checkSignature checks a token's form and signature with ks and parses
// its policy.
func (v *Verifier) checkSignature(ks *KeySet, tok string) (verifiedToken, error) {
	parts, ok := splitToken(tok)
	if !ok {
		return verifiedToken{}, ErrMalformed
	}
	var sig [ed25519.SignatureSize]byte
	var msg [maxMessage]byte
	n, at, ok := decodeToken(parts, &sig, msg[:])
	if !ok {
		return verifiedToken{}, ErrMalformed
	}
	pub, ok := ks.Key(parts.kid)
	if !ok {
		return verifiedToken{}, fmt.Errorf("%w %q", ErrUnknownKey, parts.kid) // kid checked by splitToken: safe to show
	}
	if !ed25519.Verify(pub, msg[:n], sig[:]) {
		return verifiedToken{}, ErrBadSignature
	}
	// Only signed bytes reach the policy parser.
	p, ok := parsePolicy(string(msg[at:n]))
	if !ok {
		return verifiedToken{}, ErrMalformed
	}
	return verifiedToken{p: p, kid: parts.kid}, nil
}

// queryToken finds the ParamName parameter in a raw query: its value
// (unescaped), whether it is present, and false if it is there more than
// once or badly escaped. Parameters are split on '&' only, as
// url.ParseQuery does.
func queryToken(raw string) (tok string, present, ok bool) {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, val, _ := strings.Cut(kv, "=")
		if queryKey(k) != ParamName {
			continue
		}
		if present {
			return "", true, false
		}
		present, tok = true, val
	}
	if strings.ContainsAny(tok, "%+") {
		u, err := url.QueryUnescape(tok)
		if err != nil {
			return "", true, false
		}
		tok = u
	}
	return tok, present, true
}

// queryKey returns a raw query key unescaped (as url.ParseQuery would),
// without allocating for the common, unescaped key.
func queryKey(k string) string {
	if !strings.ContainsAny(k, "%+") {
		return k
	}
	u, err := url.QueryUnescape(k)
	if err != nil {
		return k
	}
	return u
}
