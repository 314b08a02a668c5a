package geo

import (
	"net/http"
	"net/netip"

	"onair/internal/clientip"
)

// ClientAddr returns the address of the client that made r by
// internal/clientip's rule, the one signing's Verifier.ClientIP applies,
// so a token's ip claim and the geo check see the same client.
//
// It is the peer (r.RemoteAddr) unless the peer is in trusted; then,
// walking X-Forwarded-For from the right (the entry the nearest proxy
// appended), the first address that is not trusted, so an address a
// client wrote into its own X-Forwarded-For is never believed. If every
// entry is trusted, the left-most one; if there is none, the peer. An
// entry that does not parse before an untrusted one is found makes the
// client unknown: the invalid (zero) Addr, which DB.Country reports as
// unknown. IPv4-mapped IPv6 addresses are unmapped and zones dropped.
//
// Trusted prefixes are used as signing.NewVerifier canonicalizes them: an
// IPv4-mapped prefix of at least /96 stands for its IPv4 prefix, host
// bits are ignored; a prefix that NewVerifier refuses (invalid, or
// IPv4-mapped shorter than /96) trusts nothing here.
func ClientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	a, _ := clientip.Addr(r, func(a netip.Addr) bool { return isTrusted(trusted, a) })
	return a
}

// isTrusted reports whether a (unmapped, no zone) is in one of trusted.
func isTrusted(trusted []netip.Prefix, a netip.Addr) bool {
	for _, p := range trusted {
		if c, ok := canonicalPrefix(p); ok && c.Contains(a) {
			return true
		}
	}
	return false
}

// canonicalPrefix is signing's canonicalPrefix plus its validity check:
// an IPv4-mapped prefix of at least /96 becomes the IPv4 prefix; zoned,
// invalid and shorter mapped prefixes are refused.
func canonicalPrefix(p netip.Prefix) (netip.Prefix, bool) {
	if !p.IsValid() {
		return netip.Prefix{}, false
	}
	a, bits := p.Addr(), p.Bits()
	if a.Zone() != "" {
		return netip.Prefix{}, false
	}
	if a.Is4In6() {
		if bits < 96 {
			return netip.Prefix{}, false
		}
		a, bits = a.Unmap(), bits-96
	}
	return netip.PrefixFrom(a, bits).Masked(), true
}
