package signing

import (
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSignRejectsInvalidPolicy(t *testing.T) {
	s := testSigner(t, "k1", 1)
	exp := testNow.Add(time.Hour)
	cases := []struct {
		name string
		p    Policy
	}{
		{"no resource", Policy{Expires: exp}},
		{"relative resource", Policy{Resource: "live/news/*", Expires: exp}},
		{"full URL", Policy{Resource: "https://cdn.example/live/news/*", Expires: exp}},
		{"question mark", Policy{Resource: "/live/news/?.m4s", Expires: exp}},
		{"percent", Policy{Resource: "/live/news%2f*", Expires: exp}},
		{"dot segment", Policy{Resource: "/live/news/../*", Expires: exp}},
		{"empty segment", Policy{Resource: "/live//*", Expires: exp}},
		{"quote", Policy{Resource: `/live/"news"/*`, Expires: exp}},
		{"semicolon", Policy{Resource: "/live/news;x/*", Expires: exp}},
		{"too long", Policy{Resource: "/" + strings.Repeat("a", maxPattern), Expires: exp}},
		{"no expiry", Policy{Resource: "/live/*"}},
		{"expiry before 1970", Policy{Resource: "/live/*", Expires: time.Unix(-5, 0)}},
		{"not_before at expiry", Policy{Resource: "/live/*", Expires: exp, NotBefore: exp}},
		{"session too long", Policy{Resource: "/live/*", Expires: exp, Session: strings.Repeat("s", 65)}},
		{"session with quote", Policy{Resource: "/live/*", Expires: exp, Session: `a"b`}},
		{"tenant with space", Policy{Resource: "/live/*", Expires: exp, Tenant: "a b"}},
		{"channel with backslash", Policy{Resource: "/live/*", Expires: exp, Channel: `a\b`}},
		{"mapped ipv4 prefix shorter than 96", Policy{Resource: "/live/*", Expires: exp, IP: netip.MustParsePrefix("::ffff:0:0/64")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tok, err := s.Sign(tc.p); !errors.Is(err, ErrInvalidPolicy) {
				t.Errorf("Sign = %q, %v; want ErrInvalidPolicy", tok, err)
			}
		})
	}
}

func TestSignPolicyEncoding(t *testing.T) {
	s := testSigner(t, "k1", 1)
	exp := time.Unix(1767229200, 999_000_000) // fraction dropped
	cases := []struct {
		name string
		p    Policy
		json string
	}{
		{"minimal", Policy{Resource: "/live/news/*", Expires: exp},
			`{"expires":1767229200,"resource":"/live/news/*"}`},
		{"all members", Policy{Resource: "/live/news/*", Expires: exp, NotBefore: time.Unix(1767225600, 0),
			IP: netip.MustParsePrefix("203.0.113.77/24"), Session: "s-1", Tenant: "acme", Channel: "news"},
			`{"channel":"news","expires":1767229200,"ip":"203.0.113.0/24","not_before":1767225600,"resource":"/live/news/*","session":"s-1","tenant":"acme"}`},
		{"ipv6 host", Policy{Resource: "/*", Expires: exp, IP: netip.MustParsePrefix("2001:DB8::1/128")},
			`{"expires":1767229200,"ip":"2001:db8::1/128","resource":"/*"}`},
		{"mapped ipv4 prefix", Policy{Resource: "/*", Expires: exp, IP: netip.MustParsePrefix("::ffff:198.51.100.0/120")},
			`{"expires":1767229200,"ip":"198.51.100.0/24","resource":"/*"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := mustSign(t, s, tc.p)
			p64, _, _ := strings.Cut(tok, ".")
			js, err := b64.DecodeString(p64)
			if err != nil {
				t.Fatal(err)
			}
			if string(js) != tc.json {
				t.Errorf("policy JSON\n got %s\nwant %s", js, tc.json)
			}
			if again := mustSign(t, s, tc.p); again != tok {
				t.Errorf("signing twice gave two tokens:\n%s\n%s", tok, again)
			}
			if !strings.HasSuffix(tok, ".k1") || len(tok) > MaxTokenSize {
				t.Errorf("token %q: want suffix .k1 and at most %d bytes", tok, MaxTokenSize)
			}
		})
	}
}

func TestLargestPolicyFits(t *testing.T) {
	s := testSigner(t, "k_23456789012345678901234567890", 1)
	p := Policy{
		Resource: "/" + strings.Repeat("a", maxPattern-2) + "*", Expires: time.Unix(maxUnix, 0), NotBefore: time.Unix(maxUnix-1, 0),
		IP:      netip.MustParsePrefix("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"),
		Session: strings.Repeat("s", maxField), Tenant: strings.Repeat("t", maxField), Channel: strings.Repeat("c", maxField),
	}
	tok := mustSign(t, s, p)
	if len(tok) > MaxTokenSize {
		t.Fatalf("largest policy makes a %d-byte token, limit %d", len(tok), MaxTokenSize)
	}
	v, err := NewVerifier(VerifierConfig{Keys: testKeySet(t, s), Now: func() time.Time { return time.Unix(maxUnix-1, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Verify(request("/"+strings.Repeat("a", maxPattern-2)+"/x?onair_token="+tok, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:1", nil))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if claims.Session != p.Session || claims.Tenant != p.Tenant || claims.Channel != p.Channel || claims.IP != p.IP {
		t.Errorf("claims %+v lost members of %+v", claims, p)
	}
}

func TestSignURL(t *testing.T) {
	s := testSigner(t, "k1", 1)
	v := testVerifier(t, testKeySet(t, s), 0)
	p := newsPolicy()
	tok := mustSign(t, s, p)
	cases := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"absolute", "https://cdn.example/live/news/master.m3u8", "https://cdn.example/live/news/master.m3u8?onair_token=" + tok, false},
		{"relative", "/live/news/master.m3u8", "/live/news/master.m3u8?onair_token=" + tok, false},
		{"other parameters kept in order", "https://cdn.example/live/news/master.m3u8?z=1&a=%20", "https://cdn.example/live/news/master.m3u8?z=1&a=%20&onair_token=" + tok, false},
		{"old token replaced", "/live/news/master.m3u8?onair_token=old&x=1&onair_token=older", "/live/news/master.m3u8?x=1&onair_token=" + tok, false},
		{"fragment kept", "/live/news/master.m3u8#t=5", "/live/news/master.m3u8?onair_token=" + tok + "#t=5", false},
		{"path outside the resource", "https://cdn.example/live/sports/master.m3u8", "", true},
		{"traversal out of the resource", "https://cdn.example/live/news/../sports/master.m3u8", "", true},
		{"bad URL", "http://[::1", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.SignURL(tc.in, p)
			if (err != nil) != tc.wantErr {
				t.Fatalf("SignURL: %q, %v; want error %v", got, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("SignURL\n got %s\nwant %s", got, tc.want)
			}
			if err != nil {
				return
			}
			u, _ := url.Parse(got)
			if _, err := v.Verify(request(u.RequestURI(), "192.0.2.1:1", nil)); err != nil {
				t.Errorf("the signed URL does not verify: %v", err)
			}
		})
	}
}

func TestCookie(t *testing.T) {
	s := testSigner(t, "k1", 1)
	cases := []struct {
		name     string
		resource string
		opts     CookieOptions
		path     string
	}{
		{"channel directory", "/live/news/*", CookieOptions{}, "/live/news/"},
		{"prefix without slash", "/live/news*", CookieOptions{}, "/live/"},
		{"star inside", "/live/news/*/index.m3u8", CookieOptions{}, "/live/news/"},
		{"exact path", "/live/news/master.m3u8", CookieOptions{}, "/live/news/"},
		{"everything", "/*", CookieOptions{Insecure: true, Domain: "cdn.example"}, "/"},
		{"cross-site player", "/live/*", CookieOptions{SameSite: http.SameSiteNoneMode}, "/live/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Policy{Resource: tc.resource, Expires: testNow.Add(time.Hour)}
			c, err := s.Cookie(p, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			sameSite := http.SameSiteLaxMode
			if tc.opts.SameSite != 0 {
				sameSite = tc.opts.SameSite
			}
			if c.Name != CookieName || c.Value != mustSign(t, s, p) || c.Path != tc.path || c.Domain != tc.opts.Domain ||
				!c.Expires.Equal(p.Expires) || !c.HttpOnly || c.Secure == tc.opts.Insecure || c.SameSite != sameSite {
				t.Errorf("cookie %+v, want path %s, domain %q, secure %v, HttpOnly, SameSite %v, expiring %v",
					c, tc.path, tc.opts.Domain, !tc.opts.Insecure, sameSite, p.Expires)
			}
			if err := c.Valid(); err != nil {
				t.Errorf("cookie not valid: %v", err)
			}
		})
	}
	if _, err := s.Cookie(Policy{Resource: "x"}, CookieOptions{}); !errors.Is(err, ErrInvalidPolicy) {
		t.Errorf("Cookie with an invalid policy: %v, want ErrInvalidPolicy", err)
	}
}

// TestCookieInABrowserJar sets the cookie as a server would and checks
// that a cookie jar (RFC 6265 rules, as browsers apply them) sends it
// back for the channel's objects only, and that those requests verify.
func TestCookieInABrowserJar(t *testing.T) {
	now := time.Now()
	s := testSigner(t, "k1", 1)
	v, err := NewVerifier(VerifierConfig{Keys: testKeySet(t, s)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Cookie(Policy{Resource: "/live/news/*", Expires: now.Add(time.Hour)}, CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	http.SetCookie(rec, c)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	jar.SetCookies(&url.URL{Scheme: "https", Host: "cdn.example", Path: "/live/news/master.m3u8"}, rec.Result().Cookies())

	cases := []struct {
		url  string
		sent bool
		want error
	}{
		{"https://cdn.example/live/news/master.m3u8", true, nil},
		{"https://cdn.example/live/news/720p/12.3.m4s", true, nil},
		{"https://cdn.example/live/sports/master.m3u8", false, ErrMissing},
		{"https://other.example/live/news/master.m3u8", false, ErrMissing},
		{"http://cdn.example/live/news/master.m3u8", false, ErrMissing}, // Secure
	}
	for _, tc := range cases {
		u, _ := url.Parse(tc.url)
		r := httptest.NewRequest(http.MethodGet, tc.url, nil)
		r.RemoteAddr = "192.0.2.1:1"
		for _, jc := range jar.Cookies(u) {
			r.AddCookie(jc)
		}
		if got := len(r.CookiesNamed(CookieName)) > 0; got != tc.sent {
			t.Errorf("%s: cookie sent %v, want %v", tc.url, got, tc.sent)
		}
		claims, err := v.Verify(r)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: Verify %v, want %v", tc.url, err, tc.want)
		}
		if err == nil && claims.Source != SourceCookie {
			t.Errorf("%s: source %s, want cookie", tc.url, claims.Source)
		}
	}
}

func TestClaimsCookieUpgradesURLToken(t *testing.T) {
	s := testSigner(t, "k1", 1)
	v := testVerifier(t, testKeySet(t, s), 0)
	signed, err := s.SignURL("/live/news/master.m3u8", newsPolicy())
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Verify(request(signed, "192.0.2.1:1", nil))
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.Cookie(newsPolicy(), CookieOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := claims.Cookie(CookieOptions{})
	if got.String() != want.String() {
		t.Errorf("Claims.Cookie\n got %s\nwant %s", got, want)
	}
	// The player's next request, for a relative URI, carries only the cookie.
	if _, err := v.Verify(request("/live/news/720p/index.m3u8", "192.0.2.1:1", nil, got.Value)); err != nil {
		t.Errorf("upgraded cookie: %v", err)
	}
}

func TestNewSignerRejects(t *testing.T) {
	if _, err := NewSigner("bad kid", testKey(1)); err == nil {
		t.Error("NewSigner accepted a kid with a space")
	}
	if _, err := NewSigner("k", testKey(1)[:32]); err == nil {
		t.Error("NewSigner accepted a 32-byte private key")
	}
}
