package signing

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParseToken feeds arbitrary tokens to the verifier: it must never
// panic, and it must accept nothing but the exact tokens the signers
// made (no forgery, no second encoding of a genuine token).
func FuzzParseToken(f *testing.F) {
	k1 := testSigner(f, "k1", 1)
	k2 := testSigner(f, "k2", 2)
	v := testVerifier(f, testKeySet(f, k1, k2), 0)
	known := map[string]bool{}
	for _, s := range []*Signer{k1, k2} {
		for _, p := range []Policy{
			newsPolicy(),
			{Resource: "/*", Expires: testNow.Add(time.Minute)},
			{Resource: "/live/news/*", Expires: testNow.Add(time.Hour), NotBefore: testNow.Add(-time.Hour),
				IP: netip.MustParsePrefix("192.0.2.0/24"), Session: "abc", Tenant: "t", Channel: "news"},
		} {
			tok := mustSign(f, s, p)
			known[tok] = true
			f.Add(tok)
		}
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "hello", strings.Repeat("A", 3000),
		"e30." + strings.Repeat("A", 86) + ".k1", "eyJ9." + strings.Repeat("_", 86) + ".k2"} {
		f.Add(s)
	}
	r := request("/live/news/720p/5.m4s", "192.0.2.1:1", nil)
	f.Fuzz(func(t *testing.T, tok string) {
		if parts, ok := splitToken(tok); ok {
			if got := parts.policy + "." + parts.sig + "." + parts.kid; got != tok {
				t.Fatalf("split %q reassembles as %q", tok, got)
			}
			var sig [64]byte
			var msg [maxMessage]byte
			decodeToken(parts, &sig, msg[:])
		}
		claims, err := v.verify(r, tok, SourceQuery)
		if err == nil && !known[tok] {
			t.Fatalf("accepted a token no signer made: %q (%+v)", tok, claims)
		}
		if err != nil && Reason(err) == "error" {
			t.Fatalf("refusal without a sentinel: %v", err)
		}
	})
}

// FuzzParsePolicy checks that the policy parser never panics and accepts
// only canonical encodings of valid policies.
func FuzzParsePolicy(f *testing.F) {
	for _, tc := range policyCases {
		f.Add(tc.json)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := parsePolicy(s)
		if !ok {
			return
		}
		if got := string(appendPolicy(nil, p)); got != s {
			t.Fatalf("accepted %q, which is not canonical (%q)", s, got)
		}
		n, err := p.normalize()
		if err != nil {
			t.Fatalf("accepted %q, which the signer refuses: %v", s, err)
		}
		if got := string(appendPolicy(nil, n)); got != s {
			t.Fatalf("accepted %q, which the signer would sign as %q", s, got)
		}
	})
}

// FuzzMatchPattern compares matchPattern with a regular expression and
// checks that cleanPath never lets a hostile path through and that a
// cookie for a pattern reaches every path the pattern matches.
func FuzzMatchPattern(f *testing.F) {
	for _, tc := range matchCases {
		f.Add(tc.pattern, tc.name)
	}
	for _, tc := range cleanPathCases {
		f.Add("/live/news/*", tc.escaped)
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if len(pattern) > 64 || len(name) > 256 {
			return // keep the reference regexp cheap
		}
		got := matchPattern(pattern, name)
		if utf8.ValidString(pattern) && utf8.ValidString(name) {
			parts := strings.Split(pattern, "*")
			for i := range parts {
				parts[i] = regexp.QuoteMeta(parts[i])
			}
			re := regexp.MustCompile(`(?s)^` + strings.Join(parts, ".*") + `$`)
			if want := re.MatchString(name); got != want {
				t.Fatalf("matchPattern(%q, %q) = %v, regexp says %v", pattern, name, got, want)
			}
		}
		clean, ok := cleanPath(name)
		if !ok {
			return
		}
		for _, seg := range strings.Split(clean, "/") {
			if s, _, _ := strings.Cut(seg, ";"); s == ".." || s == "." {
				t.Fatalf("cleanPath(%q) = %q, with a dot segment", name, clean)
			}
		}
		if strings.ContainsAny(clean, "%\\") || strings.Contains(clean, "//") {
			t.Fatalf("cleanPath(%q) = %q", name, clean)
		}
		if validPattern(pattern) && matchPattern(pattern, clean) && !strings.HasPrefix(clean, cookiePath(pattern)) {
			t.Fatalf("pattern %q matches %q, outside its cookie path %q", pattern, clean, cookiePath(pattern))
		}
	})
}
