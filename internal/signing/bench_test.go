package signing

import (
	"net/netip"
	"testing"
)

func BenchmarkVerify(b *testing.B) {
	s := testSigner(b, "k2026", 1)
	v := testVerifier(b, testKeySet(b, s, testSigner(b, "k2025", 2)), 0)
	p := newsPolicy()
	p.IP = netip.MustParsePrefix("192.0.2.0/24")
	p.Session = "8f14e45fceea167a5a36dedd4bea2543"
	tok := mustSign(b, s, p)
	cases := []struct {
		name string
		r    func() (target string, cookies []string)
	}{
		{"query", func() (string, []string) { return "/live/news/720p/12.3.m4s?_HLS_msn=12&onair_token=" + tok, nil }},
		{"cookie", func() (string, []string) { return "/live/news/720p/12.3.m4s", []string{tok} }},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			target, cookies := tc.r()
			r := request(target, "192.0.2.1:40000", nil, cookies...)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("refused-unknown-key", func(b *testing.B) {
		r := request("/live/news/720p/12.3.m4s?onair_token="+withKid("nope")(tok), "192.0.2.1:40000", nil)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(r); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}

func BenchmarkSign(b *testing.B) {
	s := testSigner(b, "k2026", 1)
	p := newsPolicy()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(p); err != nil {
			b.Fatal(err)
		}
	}
}
