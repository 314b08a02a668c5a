package signing

import (
	"net/http"
	"net/netip"
	"strings"
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
	peer, ok := parseAddr(r.RemoteAddr)
	if !ok {
		return netip.Addr{}, false
	}
	if !v.trusted(peer) {
		return peer, true
	}
	furthest := peer
	lines := r.Header.Values("X-Forwarded-For")
	for i := len(lines) - 1; i >= 0; i-- {
		for rest := lines[i]; ; {
			j := strings.LastIndexByte(rest, ',')
			a, ok := parseAddr(strings.TrimSpace(rest[j+1:]))
			if !ok {
				return netip.Addr{}, false
			}
			if !v.trusted(a) {
				return a, true
			}
			furthest = a
			if j < 0 {
				break
			}
			rest = rest[:j]
		}
	}
	return furthest, true
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

// parseAddr parses "addr", "addr:port" or "[addr]:port", unmapped and
// without zone. The form is chosen before parsing, so a valid address
// costs no error allocation.
func parseAddr(s string) (netip.Addr, bool) {
	var a netip.Addr
	if strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1 {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	} else {
		var err error
		if a, err = netip.ParseAddr(s); err != nil {
			return netip.Addr{}, false
		}
	}
	return a.Unmap().WithZone(""), true
}
