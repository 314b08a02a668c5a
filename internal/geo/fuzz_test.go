package geo

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"onair/internal/clientip"
)

// validCode reports whether s is what Country and ParseList promise: two
// upper-case ASCII letters.
func validCode(s string) bool {
	return len(s) == 2 && isUpper(s[0]) && isUpper(s[1])
}

func FuzzParseList(f *testing.F) {
	for _, tc := range parseListCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		codes, err := ParseList(s)
		if err != nil {
			return
		}
		for _, c := range codes {
			if !validCode(c) {
				t.Fatalf("ParseList(%q) returned %q", s, c)
			}
		}
		if !slices.IsSorted(codes) || len(slices.Compact(slices.Clone(codes))) != len(codes) {
			t.Fatalf("ParseList(%q) = %q: not sorted and unique", s, codes)
		}
		again, err := ParseList(strings.Join(codes, ","))
		if err != nil || !slices.Equal(again, codes) {
			t.Fatalf("round trip of %q: %q, %v", codes, again, err)
		}
		if _, err := (Rule{Allow: codes}).Normalize(); err != nil {
			t.Fatalf("Rule{Allow: %q}.Normalize(): %v", codes, err)
		}
	})
}

// FuzzCountry looks random addresses up: never a panic, only valid codes,
// and an IPv4 address answers as its IPv4-mapped form does.
func FuzzCountry(f *testing.F) {
	db, err := OpenBytes(buildDB(f, 6, 28, testNetworks()))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"203.0.113.1", "198.51.100.255", "2001:db8::1", "::ffff:192.0.2.1", "198.18.2.1", "::", "255.255.255.255"} {
		f.Add(netip.MustParseAddr(s).AsSlice())
	}
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		addr, _ := netip.AddrFromSlice(b) // invalid unless 4 or 16 bytes
		iso, ok := db.Country(addr)
		if ok != (iso != "") || ok && !validCode(iso) {
			t.Fatalf("Country(%v) = %q, %v", addr, iso, ok)
		}
		if addr.Is4() {
			mapped := netip.AddrFrom16(addr.As16())
			if iso2, ok2 := db.Country(mapped); iso2 != iso || ok2 != ok {
				t.Fatalf("Country(%v) = %q, %v but Country(%v) = %q, %v", addr, iso, ok, mapped, iso2, ok2)
			}
		}
	})
}

// FuzzOpenBytes opens damaged databases: an error or a database whose
// lookups return valid codes, never a panic.
func FuzzOpenBytes(f *testing.F) {
	good := buildDB(f, 6, 24, testNetworks()[:3])
	f.Add(good)
	f.Add(good[:len(good)/2])
	for _, i := range []int{0, 7, 100, len(good) / 2, len(good) - 60, len(good) - 1} {
		b := slices.Clone(good)
		b[i] ^= 0xff
		f.Add(b)
	}
	f.Add([]byte("\xAB\xCD\xEFMaxMind.com"))
	addrs := []netip.Addr{
		netip.MustParseAddr("203.0.113.1"),
		netip.MustParseAddr("198.51.100.1"),
		netip.MustParseAddr("2001:db8::1"),
		netip.MustParseAddr("8.8.8.8"),
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		db, err := OpenBytes(b)
		if err != nil {
			return
		}
		for _, a := range addrs {
			if iso, ok := db.Country(a); ok != (iso != "") || ok && !validCode(iso) {
				t.Fatalf("Country(%v) = %q, %v", a, iso, ok)
			}
		}
	})
}

// FuzzClientAddr feeds arbitrary peers and X-Forwarded-For values: the
// answer is invalid or an unmapped address without zone, and is the peer
// whenever the peer is not trusted.
func FuzzClientAddr(f *testing.F) {
	for _, tc := range clientAddrCases {
		f.Add(tc.remote, strings.Join(tc.xff, "\n"))
	}
	trusted := testTrusted()
	f.Fuzz(func(t *testing.T, remote, xff string) {
		var lines []string
		if xff != "" {
			lines = strings.Split(xff, "\n")
		}
		a := ClientAddr(request(remote, lines), trusted)
		if !a.IsValid() {
			return
		}
		if a.Is4In6() || a.Zone() != "" {
			t.Fatalf("ClientAddr(%q, %q) = %v: mapped or zoned", remote, xff, a)
		}
		if peer, ok := clientip.Parse(remote); ok && !isTrusted(trusted, peer) && a != peer {
			t.Fatalf("ClientAddr(%q, %q) = %v, want the untrusted peer %v", remote, xff, a, peer)
		}
	})
}
