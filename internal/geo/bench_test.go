package geo

import (
	"net/netip"
	"testing"
)

// benchNetworks is a database of about 4,000 networks, so lookups walk a
// tree of realistic depth.
func benchNetworks() []network {
	nets := testNetworks()
	isos := []string{"DE", "US", "FR", "GB", "JP", "BR", "IN", "ZA"}
	for i := range 4096 {
		a := netip.AddrFrom4([4]byte{byte(20 + i>>8), byte(i), 0, 0})
		nets = append(nets, network{netip.PrefixFrom(a, 16).String(), countryRecord(isos[i%len(isos)])})
	}
	return nets
}

func BenchmarkCountry(b *testing.B) {
	db, err := OpenBytes(buildDB(b, 6, 28, benchNetworks()))
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		addr netip.Addr
		want string
	}{
		{"v4", netip.MustParseAddr("203.0.113.1"), "DE"},
		{"v6", netip.MustParseAddr("2001:db8::1"), "FR"},
		{"v4-mapped", netip.MustParseAddr("::ffff:203.0.113.1"), "DE"},
		{"registered", netip.MustParseAddr("192.0.2.1"), "GB"},
		{"not-found", netip.MustParseAddr("8.8.8.8"), ""},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if iso, _ := db.Country(tc.addr); iso != tc.want {
					b.Fatalf("Country(%v) = %q, want %q", tc.addr, iso, tc.want)
				}
			}
		})
	}
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		a := netip.MustParseAddr("203.0.113.1")
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				db.Country(a)
			}
		})
	})
}

func BenchmarkPermits(b *testing.B) {
	r, err := Rule{Allow: []string{"AT", "CH", "DE", "LI", "LU"}}.Normalize()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := r.Permits("LU", true); !ok {
			b.Fatal("LU refused")
		}
	}
}

func BenchmarkClientAddr(b *testing.B) {
	trusted := testTrusted()
	r := request("10.0.0.1:443", []string{"203.0.113.9, 10.1.1.1"})
	b.ReportAllocs()
	for b.Loop() {
		ClientAddr(r, trusted)
	}
}
