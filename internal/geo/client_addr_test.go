package geo

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// clientAddrCases are signing's TestClientIP cases, kept the same so both
// packages agree on the client, plus cases of geo's own.
var clientAddrCases = []struct {
	remote string
	xff    []string
	want   string // "" = unknown (invalid Addr)
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
	// geo's own: several header lines are one list, the last line nearest.
	{"10.0.0.1:1", []string{"198.51.100.1", "203.0.113.9, 10.3.3.3"}, "203.0.113.9"},
	{"10.0.0.1:1", []string{"198.51.100.1", "10.3.3.3"}, "198.51.100.1"},
	// A client's forged left-most entry is never believed.
	{"10.0.0.1:1", []string{"10.7.7.7, 203.0.113.9"}, "203.0.113.9"},
	// Mapped and zoned entries are unmapped and stripped.
	{"10.0.0.1:1", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
	{"10.0.0.1:1", []string{"fe80::9%eth0"}, "fe80::9"},
	// The host-bit prefix 192.168.1.1/16 trusts 192.168.0.0/16.
	{"192.168.5.5:1", []string{"203.0.113.9"}, "203.0.113.9"},
	// The too-short mapped prefix and the invalid one trust nothing.
	{"100.64.0.1:1", []string{"203.0.113.9"}, "100.64.0.1"},
}

// testTrusted are signing's test proxies plus prefixes geo must
// canonicalize or ignore as NewVerifier would.
func testTrusted() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("::ffff:172.16.0.0/108"),
		netip.MustParsePrefix("192.168.1.1/16"), // host bits set
		netip.MustParsePrefix("::ffff:0:0/95"),  // mapped, shorter than /96
		{},                                      // invalid
	}
}

func request(remote string, xff []string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/live/news/index.m3u8", nil)
	r.RemoteAddr = remote
	for _, v := range xff {
		r.Header.Add("X-Forwarded-For", v)
	}
	return r
}

func TestClientAddr(t *testing.T) {
	trusted := testTrusted()
	for _, tc := range clientAddrCases {
		a := ClientAddr(request(tc.remote, tc.xff), trusted)
		got := ""
		if a.IsValid() {
			got = a.String()
		}
		if got != tc.want {
			t.Errorf("ClientAddr(peer %q, xff %q) = %q, want %q", tc.remote, tc.xff, got, tc.want)
		}
	}
}

func TestClientAddrNoTrustedProxies(t *testing.T) {
	// Without trusted proxies X-Forwarded-For is never read.
	a := ClientAddr(request("10.0.0.1:1", []string{"203.0.113.9"}), nil)
	if want := netip.MustParseAddr("10.0.0.1"); a != want {
		t.Errorf("ClientAddr = %v, want %v", a, want)
	}
}
