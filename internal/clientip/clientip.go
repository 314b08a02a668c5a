// Package clientip finds the client address of an HTTP request behind
// trusted proxies (X-Forwarded-For), the one rule internal/signing (a
// token's ip condition) and internal/geo (the country) both apply, so
// they always see the same client. It imports only the standard library;
// its functions are safe for concurrent use.
package clientip

import (
	"net/http"
	"net/netip"
	"strings"
)

// Addr returns the address of the client that made r: the peer
// (r.RemoteAddr) unless trusted says it is a proxy; then, walking
// X-Forwarded-For from the right (the entry the nearest proxy appended),
// the first address that is not trusted, so an address a client wrote
// into its own X-Forwarded-For is never believed. If every entry is
// trusted, the left-most one; if there is none, the peer. An entry that
// does not parse before an untrusted one is found makes the client
// unknown: false. Addresses are unmapped and without zone.
func Addr(r *http.Request, trusted func(netip.Addr) bool) (netip.Addr, bool) {
	peer, ok := Parse(r.RemoteAddr)
	if !ok {
		return netip.Addr{}, false
	}
	if !trusted(peer) {
		return peer, true
	}
	furthest := peer
	lines := r.Header.Values("X-Forwarded-For")
	for i := len(lines) - 1; i >= 0; i-- {
		for rest := lines[i]; ; {
			j := strings.LastIndexByte(rest, ',')
			a, ok := Parse(strings.TrimSpace(rest[j+1:]))
			if !ok {
				return netip.Addr{}, false
			}
			if !trusted(a) {
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

// Parse parses "addr", "addr:port" or "[addr]:port", unmapped and without
// zone. The form is chosen before parsing, so a valid address costs no
// error allocation.
func Parse(s string) (netip.Addr, bool) {
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
