package signing

import (
	"net/http"
	"net/netip"

	"onair/internal/clientip"
)

// ClientIP returns the address of the client that made r: the peer
// (r.RemoteAddr) unless it is a trusted proxy; then, walking
// X-Forwarded-For from the right (the entry the nearest proxy appended),
// the first address that is not a trusted proxy, so an address a client
// wrote into its own X-Forwarded-For is never believed. If every entry
// is a trusted proxy, the left-most one; if there is none, the peer. An
// entry that does not parse before an untrusted one is found makes the
// client unknown: false. IPv4-mapped IPv6 addresses are unmapped and
// zones dropped.
func (v *Verifier) ClientIP(r *http.Request) (netip.Addr, bool) {
	return clientip.Addr(r, v.trusted)
}

// trusted reports whether a is one of the verifier's trusted proxies.
func (v *Verifier) trusted(a netip.Addr) bool {
	for _, p := range v.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
