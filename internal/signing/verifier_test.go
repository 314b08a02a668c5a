package signing

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// Token rewriting helpers: what an attacker can do to a token.

// withKid returns tok with its key ID replaced.
func withKid(kid string) func(string) string {
	return func(tok string) string {
		return tok[:strings.LastIndexByte(tok, '.')+1] + kid
	}
}

// withPolicy returns tok with its policy JSON edited by replacing old
// with new, signature kept.
func withPolicy(old, new string) func(string) string {
	return func(tok string) string {
		p, rest, _ := strings.Cut(tok, ".")
		js, err := b64.DecodeString(p)
		if err != nil {
			panic(err)
		}
		return b64.EncodeToString([]byte(strings.Replace(string(js), old, new, 1))) + "." + rest
	}
}

// flipSigBit returns tok with one bit of its signature flipped.
func flipSigBit(tok string) string {
	parts := strings.Split(tok, ".")
	sig, err := b64.DecodeString(parts[1])
	if err != nil {
		panic(err)
	}
	sig[10] ^= 1
	parts[1] = b64.EncodeToString(sig)
	return strings.Join(parts, ".")
}

// signRaw makes a token for any policy bytes, bypassing the Signer's
// checks (a signer of another implementation, or a newer version).
func signRaw(key ed25519.PrivateKey, kid, policy string) string {
	sig := ed25519.Sign(key, appendMessage(nil, kid, []byte(policy)))
	return b64.EncodeToString([]byte(policy)) + "." + b64.EncodeToString(sig) + "." + kid
}

func TestVerify(t *testing.T) {
	const seg = "/live/news/720p/5.m4s?onair_token={tok}"
	k1 := testSigner(t, "k1", 1)
	k2 := testSigner(t, "k2", 2)
	k3 := testSigner(t, "k3", 3) // not in the verifier's set
	keys := testKeySet(t, k1, k2)
	signers := map[string]*Signer{"k1": k1, "k2": k2, "k3": k3}
	v4 := func(p *Policy) { p.IP = netip.MustParsePrefix("203.0.113.0/24") }
	v6 := func(p *Policy) { p.IP = netip.MustParsePrefix("2001:db8:1::/48") }
	expired := func(p *Policy) { p.Expires = testNow.Add(-5 * time.Second) }

	cases := []struct {
		name    string
		policy  func(*Policy)       // edits to newsPolicy
		signer  string              // default k1
		token   func(string) string // tampering
		target  string              // path?query, "{tok}" replaced; default seg
		cookies []string            // "{tok}" replaced
		remote  string              // default 198.51.100.7:40000
		xff     []string
		proxies []string
		leeway  time.Duration
		want    error
		wantSrc Source
	}{
		{name: "allowed in the URL", wantSrc: SourceQuery},
		{name: "allowed: playlist", target: "/live/news/master.m3u8?a=1&onair_token={tok}&b=2", wantSrc: SourceQuery},
		{name: "allowed: token percent-encoded", token: func(s string) string { return strings.ReplaceAll(s, ".", "%2E") }, wantSrc: SourceQuery},
		{name: "allowed: parameter name percent-encoded", target: "/live/news/720p/5.m4s?onair%5Ftoken={tok}", wantSrc: SourceQuery},
		{name: "allowed in a cookie", target: "/live/news/720p/5.m4s", cookies: []string{"{tok}"}, wantSrc: SourceCookie},
		{name: "allowed: second cookie", target: "/live/news/720p/5.m4s", cookies: []string{"garbage", "{tok}"}, wantSrc: SourceCookie},
		{name: "allowed: after not_before", policy: func(p *Policy) { p.NotBefore = testNow.Add(-time.Minute) }, wantSrc: SourceQuery},
		{name: "allowed: exact resource", policy: func(p *Policy) { p.Resource = "/live/news/720p/5.m4s" }, wantSrc: SourceQuery},
		{name: "allowed: signed by the second key", signer: "k2", wantSrc: SourceQuery},

		{name: "missing", target: "/live/news/720p/5.m4s", want: ErrMissing},
		{name: "missing: other parameters and cookies only", target: "/live/news/720p/5.m4s?token=x", want: ErrMissing},

		{name: "expired", policy: expired, want: ErrExpired},
		{name: "expired at the expires second", policy: func(p *Policy) { p.Expires = testNow }, want: ErrExpired},
		{name: "expired but within leeway", policy: expired, leeway: 10 * time.Second, wantSrc: SourceQuery},
		{name: "expired beyond leeway", policy: expired, leeway: 5 * time.Second, want: ErrExpired},
		{name: "not yet valid", policy: func(p *Policy) { p.NotBefore = testNow.Add(time.Minute) }, want: ErrNotYetValid},
		{name: "not yet valid, within leeway", policy: func(p *Policy) { p.NotBefore = testNow.Add(time.Second) }, leeway: 2 * time.Second, wantSrc: SourceQuery},

		{name: "other channel", target: "/live/sports/720p/5.m4s?onair_token={tok}", want: ErrWrongResource},
		{name: "prefix without slash", target: "/live/newsroom/720p/5.m4s?onair_token={tok}", want: ErrWrongResource},
		{name: "path traversal", target: "/live/news/../sports/720p/5.m4s?onair_token={tok}", want: ErrWrongResource},
		{name: "encoded traversal", target: "/live/news/%2e%2e/sports/720p/5.m4s?onair_token={tok}", want: ErrWrongResource},
		{name: "mixed-case encoded traversal", target: "/live/news/.%2E/sports/5.m4s?onair_token={tok}", want: ErrWrongResource},
		{name: "encoded slash", target: "/live/news/..%2fsports/720p/5.m4s?onair_token={tok}", want: ErrWrongResource},
		{name: "encoded slash alone", target: "/live/news/720p%2F5.m4s?onair_token={tok}", want: ErrWrongResource},
		{name: "double-encoded traversal", target: "/live/news/%252e%252e/sports/5.m4s?onair_token={tok}", want: ErrWrongResource},
		{name: "traversal with path parameter", target: "/live/news/..;/sports/5.m4s?onair_token={tok}", want: ErrWrongResource},
		{name: "encoded backslash", target: "/live/news/..%5csports/5.m4s?onair_token={tok}", want: ErrWrongResource},
		{name: "empty segment", target: "/live/news//5.m4s?onair_token={tok}", want: ErrWrongResource},
		{name: "exact resource, other object", policy: func(p *Policy) { p.Resource = "/live/news/720p/5.m4s" }, target: "/live/news/720p/6.m4s?onair_token={tok}", want: ErrWrongResource},

		{name: "ipv4 in range", policy: v4, remote: "203.0.113.9:5000", wantSrc: SourceQuery},
		{name: "ipv4 out of range", policy: v4, want: ErrWrongIP},
		{name: "ipv4-mapped peer in range", policy: v4, remote: "[::ffff:203.0.113.9]:5000", wantSrc: SourceQuery},
		{name: "ipv6 in range", policy: v6, remote: "[2001:db8:1::5]:443", wantSrc: SourceQuery},
		{name: "ipv6 out of range", policy: v6, remote: "[2001:db8:2::5]:443", want: ErrWrongIP},
		{name: "ipv6 policy, ipv4 client", policy: v6, want: ErrWrongIP},
		{name: "xff from an untrusted peer ignored", policy: v4, xff: []string{"203.0.113.9"}, want: ErrWrongIP},
		{name: "xff via a trusted proxy honoured", policy: v4, remote: "10.1.2.3:80", xff: []string{"203.0.113.9"}, proxies: []string{"10.0.0.0/8"}, wantSrc: SourceQuery},
		{name: "xff via a trusted proxy, client outside", policy: v4, remote: "10.1.2.3:80", xff: []string{"198.51.100.7"}, proxies: []string{"10.0.0.0/8"}, want: ErrWrongIP},
		{name: "xff spoofed by the client, via a trusted proxy", policy: v4, remote: "10.1.2.3:80", xff: []string{"203.0.113.9, 198.51.100.7"}, proxies: []string{"10.0.0.0/8"}, want: ErrWrongIP},
		{name: "xff through two trusted proxies", policy: v4, remote: "10.1.2.3:80", xff: []string{"198.51.100.1, 203.0.113.9, 10.0.0.5"}, proxies: []string{"10.0.0.0/8"}, wantSrc: SourceQuery},
		{name: "xff over several header lines", policy: v4, remote: "10.1.2.3:80", xff: []string{"198.51.100.1", "203.0.113.9", "10.0.0.5"}, proxies: []string{"10.0.0.0/8"}, wantSrc: SourceQuery},
		{name: "xff garbage via a trusted proxy", policy: v4, remote: "10.1.2.3:80", xff: []string{"203.0.113.9, nonsense"}, proxies: []string{"10.0.0.0/8"}, want: ErrWrongIP},
		{name: "no ip restriction ignores xff garbage", remote: "10.1.2.3:80", xff: []string{"nonsense"}, proxies: []string{"10.0.0.0/8"}, wantSrc: SourceQuery},

		{name: "tampered policy: wider resource", token: withPolicy(`"/live/news/*"`, `"/live/*"`), want: ErrBadSignature},
		{name: "tampered policy: later expiry", token: withPolicy(`"expires":17`, `"expires":18`), want: ErrBadSignature},
		{name: "tampered signature", token: flipSigBit, want: ErrBadSignature},
		{name: "kid swapped to another known key", token: withKid("k2"), want: ErrBadSignature},
		{name: "unknown kid", signer: "k3", want: ErrUnknownKey},
		{name: "kid swapped to an unknown one", token: withKid("nope"), want: ErrUnknownKey},

		{name: "oversize token", token: func(s string) string { return strings.Repeat("A", MaxTokenSize-len(s)+1) + s }, want: ErrMalformed},
		{name: "garbage", token: func(string) string { return "hello" }, want: ErrMalformed},
		{name: "empty parameter", target: "/live/news/720p/5.m4s?onair_token=", want: ErrMalformed},
		{name: "parameter without value", target: "/live/news/720p/5.m4s?onair_token", want: ErrMalformed},
		{name: "four fields", token: func(s string) string { return s + ".k1" }, want: ErrMalformed},
		{name: "padded base64", token: func(s string) string { p, r, _ := strings.Cut(s, "."); return p + "==." + r }, want: ErrMalformed},
		{name: "newline in base64", token: func(s string) string { return s[:4] + "%0A" + s[4:] }, want: ErrMalformed},
		{name: "kid too long", token: withKid(strings.Repeat("k", 33)), want: ErrMalformed},
		{name: "parameter twice", target: seg + "&onair_token={tok}", want: ErrMalformed},
		{name: "bad escape", target: "/live/news/5.m4s?onair_token=%zz", want: ErrMalformed},

		{name: "URL before cookie: URL expired, cookie ignored", policy: expired, cookies: []string{"{good}"}, want: ErrExpired},
		{name: "URL before cookie: URL good, cookie garbage", cookies: []string{"garbage"}, wantSrc: SourceQuery},
		{name: "cookie refused: first cookie's reason", target: "/live/news/720p/5.m4s", cookies: []string{"{tok}", "garbage"}, policy: expired, want: ErrExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newsPolicy()
			if tc.policy != nil {
				tc.policy(&p)
			}
			s := signers[tc.signer]
			if s == nil {
				s = k1
			}
			tok := mustSign(t, s, p)
			if tc.token != nil {
				tok = tc.token(tok)
			}
			good := mustSign(t, k1, newsPolicy())
			fill := strings.NewReplacer("{tok}", tok, "{good}", good).Replace
			target := tc.target
			if target == "" {
				target = seg
			}
			var cookies []string
			for _, c := range tc.cookies {
				cookies = append(cookies, fill(c))
			}
			remote := tc.remote
			if remote == "" {
				remote = "198.51.100.7:40000"
			}
			r := request(fill(target), remote, tc.xff, cookies...)
			claims, err := testVerifier(t, keys, tc.leeway, tc.proxies...).Verify(r)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
			if err != nil {
				if strings.Contains(err.Error(), tok) || len(err.Error()) > 80 {
					t.Errorf("error %q reflects the token", err)
				}
				return
			}
			if claims.Source != tc.wantSrc || claims.Kid != s.Kid() || claims.Resource != p.Resource || claims.Channel != "news" {
				t.Errorf("claims %+v, want source %s, kid %s, resource %s", claims, tc.wantSrc, s.Kid(), p.Resource)
			}
			if !claims.Expires.Equal(p.Expires) {
				t.Errorf("claims expire %v, want %v", claims.Expires, p.Expires)
			}
		})
	}
}

func TestVerifyUnknownPolicyMemberRefused(t *testing.T) {
	// A newer signer adds a restriction this verifier does not know: the
	// token must be refused, not accepted without the restriction.
	k1 := testSigner(t, "k1", 1)
	v := testVerifier(t, testKeySet(t, k1), 0)
	exp := testNow.Add(time.Hour).Unix()
	cases := []struct {
		name, policy string
		want         error
	}{
		{"canonical", fmt.Sprintf(`{"expires":%d,"resource":"/live/*"}`, exp), nil},
		{"unknown member", fmt.Sprintf(`{"country":"FR","expires":%d,"resource":"/live/*"}`, exp), ErrMalformed},
		{"whitespace", fmt.Sprintf(`{"expires": %d,"resource":"/live/*"}`, exp), ErrMalformed},
		{"members out of order", fmt.Sprintf(`{"resource":"/live/*","expires":%d}`, exp), ErrMalformed},
		{"no resource", fmt.Sprintf(`{"expires":%d}`, exp), ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := signRaw(testKey(1), "k1", tc.policy)
			_, err := v.Verify(request("/live/a/1.m4s?onair_token="+tok, "192.0.2.1:1", nil))
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	oldS := testSigner(t, "2025", 1)
	newS := testSigner(t, "2026", 2)
	v := testVerifier(t, testKeySet(t, oldS), 0)
	oldTok := mustSign(t, oldS, newsPolicy())
	newTok := mustSign(t, newS, newsPolicy())
	verify := func(tok string) error {
		_, err := v.Verify(request("/live/news/1.m4s?onair_token="+tok, "192.0.2.1:1", nil))
		return err
	}
	steps := []struct {
		name     string
		keys     *KeySet
		old, new error
	}{
		{"before: old key only", nil, nil, ErrUnknownKey},
		{"overlap: both keys", testKeySet(t, oldS, newS), nil, nil},
		{"after: old key removed", testKeySet(t, newS), ErrUnknownKey, nil},
	}
	for _, st := range steps {
		if st.keys != nil {
			v.SetKeys(st.keys)
		}
		if err := verify(oldTok); !errors.Is(err, st.old) || (st.old == nil) != (err == nil) {
			t.Errorf("%s: old token: %v, want %v", st.name, err, st.old)
		}
		if err := verify(newTok); !errors.Is(err, st.new) || (st.new == nil) != (err == nil) {
			t.Errorf("%s: new token: %v, want %v", st.name, err, st.new)
		}
	}
	if got := v.Keys().Kids(); len(got) != 1 || got[0] != "2026" {
		t.Errorf("Kids() = %v, want [2026]", got)
	}
}

func TestSetKeysConcurrentWithVerify(t *testing.T) {
	a := testSigner(t, "a", 1)
	b := testSigner(t, "b", 2)
	both := testKeySet(t, a, b)
	v := testVerifier(t, testKeySet(t, a), 0)
	tok := mustSign(t, a, newsPolicy())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if _, err := v.Verify(request("/live/news/1.m4s?onair_token="+tok, "192.0.2.1:1", nil)); err != nil {
					t.Errorf("Verify during rotation: %v", err)
					return
				}
			}
		})
	}
	for i := range 200 {
		if i%2 == 0 {
			v.SetKeys(both)
		} else {
			v.SetKeys(testKeySet(t, a))
		}
	}
	wg.Wait()
}

func TestNewVerifierRejects(t *testing.T) {
	cases := []struct {
		name string
		cfg  VerifierConfig
	}{
		{"negative leeway", VerifierConfig{Leeway: -time.Second}},
		{"invalid proxy prefix", VerifierConfig{TrustedProxies: []netip.Prefix{{}}}},
	}
	for _, tc := range cases {
		if _, err := NewVerifier(tc.cfg); err == nil {
			t.Errorf("%s: NewVerifier accepted it", tc.name)
		}
	}
	v, err := NewVerifier(VerifierConfig{})
	if err != nil {
		t.Fatal(err)
	}
	tok := mustSign(t, testSigner(t, "k1", 1), Policy{Resource: "/*", Expires: time.Now().Add(time.Hour)})
	if _, err := v.Verify(request("/x?onair_token="+tok, "192.0.2.1:1", nil)); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("empty default key set: %v, want ErrUnknownKey", err)
	}
}

func TestNewKeySetRejects(t *testing.T) {
	pub := testKey(1).Public().(ed25519.PublicKey)
	cases := map[string]map[string]ed25519.PublicKey{
		"empty kid":     {"": pub},
		"kid with dot":  {"a.b": pub},
		"kid too long":  {strings.Repeat("k", 33): pub},
		"short key":     {"k": pub[:31]},
		"private bytes": {"k": ed25519.PublicKey(testKey(1))},
	}
	for name, m := range cases {
		if _, err := NewKeySet(m); err == nil {
			t.Errorf("%s: NewKeySet accepted it", name)
		}
	}
}

func TestReason(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{ErrMissing, "missing"},
		{ErrMalformed, "malformed"},
		{fmt.Errorf("%w %q", ErrUnknownKey, "k9"), "unknown_key"},
		{ErrBadSignature, "bad_signature"},
		{ErrExpired, "expired"},
		{ErrNotYetValid, "not_yet_valid"},
		{ErrWrongIP, "wrong_ip"},
		{ErrWrongResource, "wrong_resource"},
		{errors.New("other"), "error"},
	}
	for _, tc := range cases {
		if got := Reason(tc.err); got != tc.want {
			t.Errorf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestClientIP(t *testing.T) {
	v := testVerifier(t, nil, 0, "10.0.0.0/8", "fd00::/8", "::ffff:172.16.0.0/108")
	cases := []struct {
		remote string
		xff    []string
		want   string // "" = unknown
	}{
		{"198.51.100.7:1234", nil, "198.51.100.7"},
		{"198.51.100.7", nil, "198.51.100.7"},
		{"[2001:db8::1]:443", nil, "2001:db8::1"},
		{"2001:db8::1", nil, "2001:db8::1"},
		{"[fe80::1%eth0]:443", nil, "fe80::1"},
		{"[::ffff:198.51.100.7]:1", nil, "198.51.100.7"},
		{"198.51.100.7:1", []string{"203.0.113.9"}, "198.51.100.7"},
		{"10.0.0.1:1", nil, "10.0.0.1"},
		{"10.0.0.1:1", []string{"203.0.113.9"}, "203.0.113.9"},
		{"10.0.0.1:1", []string{" 203.0.113.9 , 10.9.9.9 "}, "203.0.113.9"},
		{"10.0.0.1:1", []string{"203.0.113.9:5555"}, "203.0.113.9"},
		{"10.0.0.1:1", []string{"[2001:db8::9]:5555"}, "2001:db8::9"},
		{"[fd00::1]:1", []string{"2001:db8::9, fd00::2"}, "2001:db8::9"},
		{"172.16.0.1:1", []string{"203.0.113.9"}, "203.0.113.9"}, // mapped trusted prefix
		{"10.0.0.1:1", []string{"10.1.1.1, 10.2.2.2"}, "10.1.1.1"},
		{"10.0.0.1:1", []string{"garbage, 203.0.113.9"}, "203.0.113.9"},
		{"10.0.0.1:1", []string{"203.0.113.9, garbage"}, ""},
		{"10.0.0.1:1", []string{"203.0.113.9,"}, ""},
		{"not an address", nil, ""},
		{"", nil, ""},
	}
	for _, tc := range cases {
		r := request("/", tc.remote, tc.xff)
		a, ok := v.ClientIP(r)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tc.want {
			t.Errorf("ClientIP(peer %q, xff %q) = %q, want %q", tc.remote, tc.xff, got, tc.want)
		}
	}
}
