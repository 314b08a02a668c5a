package clientip

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestAddr(t *testing.T) {
	proxy := netip.MustParsePrefix("10.0.0.0/8")
	trusted := func(a netip.Addr) bool { return proxy.Contains(a) }
	for _, tc := range []struct {
		name, remote, xff, want string
	}{
		{"direct client", "203.0.113.7:5000", "", "203.0.113.7"},
		{"client's own XFF is ignored", "203.0.113.7:5000", "198.51.100.1", "203.0.113.7"},
		{"through a trusted proxy", "10.0.0.1:80", "198.51.100.1", "198.51.100.1"},
		{"spoofed entry left of the real one", "10.0.0.1:80", "192.0.2.66, 198.51.100.1", "198.51.100.1"},
		{"two trusted hops", "10.0.0.1:80", "198.51.100.1, 10.0.0.2", "198.51.100.1"},
		{"only proxies", "10.0.0.1:80", "10.0.0.3, 10.0.0.2", "10.0.0.3"},
		{"garbage before the client", "10.0.0.1:80", "not-an-ip", ""},
		{"IPv6 peer", "[2001:db8::1]:443", "", "2001:db8::1"},
		{"mapped IPv4", "[::ffff:203.0.113.9]:1", "", "203.0.113.9"},
		{"bad peer", "nonsense", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			a, ok := Addr(r, trusted)
			if tc.want == "" {
				if ok {
					t.Fatalf("got %v, want unknown", a)
				}
				return
			}
			if !ok || a != netip.MustParseAddr(tc.want) {
				t.Fatalf("got %v %v, want %s", a, ok, tc.want)
			}
		})
	}
}
