package license

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"onair/internal/live"
)

// FuzzParseClearKeyRequest: the parser never panics, and what it accepts
// is a JSON object whose kids are 1-maxKids distinct key IDs, each the
// canonical spelling of one listed string, in order of first appearance.
func FuzzParseClearKeyRequest(f *testing.F) {
	for _, tc := range clearKeyCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		kids, err := parseClearKeyRequest(body, testMaxKids)
		if err != nil {
			if len(kids) != 0 {
				t.Fatalf("error %v with kids", err)
			}
			return
		}
		if len(kids) == 0 || len(kids) > testMaxKids {
			t.Fatalf("accepted %d kids", len(kids))
		}
		var req clearKeyRequest
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("accepted %q, which is not JSON: %v", body, err)
		}
		if req.Type != "" && req.Type != "temporary" {
			t.Fatalf("accepted type %q", req.Type)
		}
		var want [][16]byte
		seen := map[[16]byte]bool{}
		for _, s := range req.Kids {
			b, err := base64.RawURLEncoding.Strict().DecodeString(s)
			if err != nil || len(b) != 16 || base64.RawURLEncoding.EncodeToString(b) != s {
				t.Fatalf("accepted kid %q", s)
			}
			if k := [16]byte(b); !seen[k] {
				seen[k] = true
				want = append(want, k)
			}
		}
		if fmt.Sprint(want) != fmt.Sprint(kids) {
			t.Fatalf("kids %x, want %x", kids, want)
		}
	})
}

// FuzzParsePath: the path parser never panics, and a path it accepts is
// exactly the canonical URL of what it parsed (the kid's hex in either
// case), so no two spellings reach one route and nothing else slips in.
func FuzzParsePath(f *testing.F) {
	for _, tc := range pathCases {
		f.Add(tc.path)
	}
	f.Fuzz(func(t *testing.T, path string) {
		rt, ok := parsePath(DefaultPrefix, path)
		if !ok {
			return
		}
		if !live.ValidChannelName(rt.channel) {
			t.Fatalf("%q: channel %q", path, rt.channel)
		}
		var canonical string
		switch rt.kind {
		case kindClearKey:
			canonical = DefaultPrefix + rt.channel + "/clearkey"
		case kindAES128:
			canonical = DefaultPrefix + rt.channel + "/aes128/" + hex.EncodeToString(rt.kid[:])
		default:
			t.Fatalf("%q: kind %q", path, rt.kind)
		}
		if strings.ToLower(path) != canonical || !strings.HasPrefix(path, DefaultPrefix+rt.channel+"/") {
			t.Fatalf("%q parsed as %+v (canonical %q)", path, rt, canonical)
		}
	})
}

// FuzzVerify: Verify never panics, refuses with a sentinel, and accepts
// only the tokens the issuers made.
func FuzzVerify(f *testing.F) {
	k1 := testIssuer(f, "k1", 1, 0)
	k2 := testIssuer(f, "k2", 2, 0)
	v := testVerifier(f, testKeySet(f, k1, k2))
	known := map[string]bool{}
	// Deterministic tokens (fixed jti; Ed25519 signatures are
	// deterministic), so every fuzz worker knows the same ones.
	for kid, n := range map[string]byte{"k1": 1, "k2": 2} {
		for _, ch := range []string{"news", "sports"} {
			c := goodClaims()
			c.Channel = ch
			tok := signClaims(f, kid, n, c)
			known[tok] = true
			f.Add(tok)
		}
	}
	f.Add(signClaims(f, "k3", 3, goodClaims()))
	expired := goodClaims()
	expired.ExpiresAt = jwt.NewNumericDate(testNow.Add(-time.Hour))
	f.Add(signClaims(f, "k1", 1, expired))
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, goodClaims())
	hs.Header["kid"] = "k1"
	hsTok, _ := hs.SignedString([]byte(k1.PublicKey()))
	f.Add(hsTok)
	for _, s := range []string{"", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", strings.Repeat("A", 3000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := v.Verify(tok)
		if err == nil && !known[tok] {
			t.Fatalf("accepted a token no issuer made: %q (%+v)", tok, c)
		}
		if err != nil && (Reason(err) == "error" || c != nil) {
			t.Fatalf("refusal %v without a sentinel, or with claims", err)
		}
	})
}
