package license

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerifyClaims(t *testing.T) {
	v := testVerifier(t, testKeySet(t, testIssuer(t, "k1", 1, 0)))
	edit := func(f func(c *Claims)) Claims {
		c := goodClaims()
		f(&c)
		return c
	}
	cases := []struct {
		name   string
		claims jwt.Claims
		kid    string
		want   error // nil: accepted
	}{
		{"good", goodClaims(), "k1", nil},
		{"no kid header", goodClaims(), "", ErrBadToken},
		{"unknown kid", goodClaims(), "k9", ErrUnknownKid},
		{"wrong issuer", edit(func(c *Claims) { c.Issuer = "someone" }), "k1", ErrBadToken},
		{"no issuer", edit(func(c *Claims) { c.Issuer = "" }), "k1", ErrBadToken},
		{"wrong audience", edit(func(c *Claims) { c.Audience = jwt.ClaimStrings{"onair-api"} }), "k1", ErrBadToken},
		{"second audience is fine", edit(func(c *Claims) { c.Audience = jwt.ClaimStrings{"x", TokenAudience} }), "k1", nil},
		{"no exp", edit(func(c *Claims) { c.ExpiresAt = nil }), "k1", ErrBadToken},
		{"no nbf", edit(func(c *Claims) { c.NotBefore = nil }), "k1", ErrBadToken},
		{"no iat", edit(func(c *Claims) { c.IssuedAt = nil }), "k1", ErrBadToken},
		{"iat in the future", edit(func(c *Claims) {
			c.IssuedAt = jwt.NewNumericDate(testNow.Add(time.Minute))
			c.ExpiresAt = jwt.NewNumericDate(testNow.Add(2 * time.Minute))
		}), "k1", ErrNotYetValid},
		{"expired", edit(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(testNow.Add(-6 * time.Second)) }), "k1", ErrExpired},
		{"expired within leeway", edit(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(testNow.Add(-4 * time.Second)) }), "k1", nil},
		{"nbf beyond leeway", edit(func(c *Claims) { c.NotBefore = jwt.NewNumericDate(testNow.Add(6 * time.Second)) }), "k1", ErrNotYetValid},
		{"nbf within leeway", edit(func(c *Claims) { c.NotBefore = jwt.NewNumericDate(testNow.Add(4 * time.Second)) }), "k1", nil},
		{"expired and wrong audience is bad", edit(func(c *Claims) {
			c.ExpiresAt = jwt.NewNumericDate(testNow.Add(-time.Hour))
			c.Audience = jwt.ClaimStrings{"other"}
		}), "k1", ErrBadToken},
		{"lifetime over max", edit(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(testNow.Add(DefaultMaxTTL + time.Second)) }), "k1", ErrBadToken},
		{"no tenant", edit(func(c *Claims) { c.Tenant = "" }), "k1", ErrBadToken},
		{"control character in tenant", edit(func(c *Claims) { c.Tenant = "a\nb" }), "k1", ErrBadToken},
		{"no channel", edit(func(c *Claims) { c.Channel = "" }), "k1", ErrBadToken},
		{"bad channel", edit(func(c *Claims) { c.Channel = "../news" }), "k1", ErrBadToken},
		{"no session", edit(func(c *Claims) { c.Session, c.Subject = "", "" }), "k1", ErrBadToken},
		{"sub differs from session", edit(func(c *Claims) { c.Subject = "s2" }), "k1", ErrBadToken},
		{"no jti", edit(func(c *Claims) { c.ID = "" }), "k1", ErrBadToken},
		{"claim of the wrong type", jwt.MapClaims{"tenant": 7, "iss": TokenIssuer}, "k1", ErrBadToken},
		{"numeric date as string", jwt.MapClaims{"exp": "tomorrow"}, "k1", ErrBadToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v.Verify(signClaims(t, tc.kid, 1, tc.claims))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if c.Tenant != "acme" || c.Channel != "news" || c.Session != "s1" || c.ID != "jti-1" {
					t.Errorf("claims %+v", c)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if Reason(err) == "error" || c != nil {
				t.Errorf("Reason %q, claims %v", Reason(err), c)
			}
		})
	}
}

func TestVerifyRefusesOtherAlgorithmsBeforeKeyLookup(t *testing.T) {
	pub := testKey(1).Public().(ed25519.PublicKey)
	v := testVerifier(t, testKeySet(t, testIssuer(t, "k1", 1, 0)))
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, goodClaims())
	hs.Header["kid"] = "k1"
	hsTok, _ := hs.SignedString([]byte(pub))
	none := jwt.NewWithClaims(jwt.SigningMethodNone, goodClaims())
	none.Header["kid"] = "k1"
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	for name, tok := range map[string]string{"HS256": hsTok, "none": noneTok} {
		_, err := v.Verify(tok)
		if !errors.Is(err, ErrBadToken) || !strings.Contains(err.Error(), "signing method") {
			t.Errorf("%s: %v, want a refusal for the signing method", name, err)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	old := testIssuer(t, "k2025", 1, 0)
	cur := testIssuer(t, "k2026", 2, 0)
	v := testVerifier(t, testKeySet(t, old))
	oldTok := mustIssue(t, old, "acme", "news", "s1")
	curTok := mustIssue(t, cur, "acme", "news", "s2")

	steps := []struct {
		name    string
		set     *KeySet
		oldWant error
		curWant error
	}{
		{"before rotation", testKeySet(t, old), nil, ErrUnknownKid},
		{"both published", testKeySet(t, old, cur), nil, nil},
		{"old removed", testKeySet(t, cur), ErrUnknownKid, nil},
		{"empty set", nil, ErrUnknownKid, ErrUnknownKid},
	}
	for _, s := range steps {
		v.SetKeys(s.set)
		if _, err := v.Verify(oldTok); !errors.Is(err, s.oldWant) {
			t.Errorf("%s: old token: %v, want %v", s.name, err, s.oldWant)
		}
		if _, err := v.Verify(curTok); !errors.Is(err, s.curWant) {
			t.Errorf("%s: current token: %v, want %v", s.name, err, s.curWant)
		}
	}

	// Through the handler: a removed kid is a counted 401.
	f := newFixture(t, HandlerConfig{})
	f.h.verifier.SetKeys(testKeySet(t, cur))
	if w := f.do("POST", "/license/news/clearkey", bearer(oldTok), strings.NewReader(clearKeyBody(kidNewsV))); w.Code != 401 || f.refused("unknown_kid") != 1 {
		t.Errorf("removed kid: status %d, refused %v", w.Code, f.refused("unknown_kid"))
	}
	if w := f.do("POST", "/license/news/clearkey", bearer(curTok), strings.NewReader(clearKeyBody(kidNewsV))); w.Code != 200 {
		t.Errorf("current kid: status %d", w.Code)
	}
}

func TestSetKeysWhileVerifying(t *testing.T) {
	a := testIssuer(t, "ka", 1, 0)
	b := testIssuer(t, "kb", 2, 0)
	v := testVerifier(t, testKeySet(t, a, b))
	tok := mustIssue(t, a, "acme", "news", "s1")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if _, err := v.Verify(tok); err != nil && !errors.Is(err, ErrUnknownKid) {
					t.Error(err)
				}
			}
		})
	}
	for i := range 50 {
		if i%2 == 0 {
			v.SetKeys(testKeySet(t, b))
		} else {
			v.SetKeys(testKeySet(t, a, b))
		}
	}
	wg.Wait()
	if got := v.Keys().Kids(); strings.Join(got, ",") != "ka,kb" {
		t.Errorf("kids %v", got)
	}
}

func TestNewVerifierRejectsBadConfig(t *testing.T) {
	for _, cfg := range []VerifierConfig{{Leeway: -time.Second}, {Leeway: 2 * time.Minute}, {MaxTTL: -1}} {
		if _, err := NewVerifier(cfg); err == nil {
			t.Errorf("NewVerifier(%+v) accepted", cfg)
		}
	}
}

func TestVerifyEmptyAndOversized(t *testing.T) {
	v := testVerifier(t, nil)
	if _, err := v.Verify(""); !errors.Is(err, ErrNoToken) {
		t.Errorf("empty: %v", err)
	}
	if _, err := v.Verify(strings.Repeat("x", MaxTokenSize+1)); !errors.Is(err, ErrBadToken) {
		t.Errorf("oversized: %v", err)
	}
}
