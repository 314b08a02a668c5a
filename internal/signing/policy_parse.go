package signing

import (
	"net/netip"
	"time"
)

// policyKeys are the policy members in their canonical (alphabetical)
// order.
var policyKeys = [...]string{"channel", "expires", "ip", "not_before", "resource", "session", "tenant"}

// parsePolicy decodes a policy in exactly the canonical form appendPolicy
// writes and nothing else: members in order, each at most once, no
// whitespace, no escapes, no unknown member (a restriction this verifier
// does not know must refuse, not be ignored), no empty optional member,
// integers without sign or leading zero, the ip prefix in its canonical
// text. So appendPolicy(parsePolicy(s)) == s whenever parsing succeeds.
// Strings in the result are substrings of s. It never allocates besides
// what the time values need (nothing).
func parsePolicy(s string) (Policy, bool) {
	d := policyDecoder{s: s}
	var p Policy
	if !d.byte('{') {
		return Policy{}, false
	}
	next := 0 // index in policyKeys of the first member still allowed
	for {
		k, ok := d.key(next)
		if !ok {
			return Policy{}, false
		}
		next = k + 1
		switch policyKeys[k] {
		case "channel":
			p.Channel, ok = d.str(fieldByte, maxField)
		case "expires":
			var n int64
			n, ok = d.num()
			p.Expires = time.Unix(n, 0).UTC()
		case "ip":
			var v string
			if v, ok = d.str(prefixByte, 64); ok {
				p.IP, ok = parseCanonicalPrefix(v)
			}
		case "not_before":
			var n int64
			n, ok = d.num()
			p.NotBefore = time.Unix(n, 0).UTC()
		case "resource":
			p.Resource, ok = d.str(patternByte, maxPattern)
		case "session":
			p.Session, ok = d.str(fieldByte, maxField)
		case "tenant":
			p.Tenant, ok = d.str(fieldByte, maxField)
		}
		if !ok {
			return Policy{}, false
		}
		if d.byte('}') {
			break
		}
		if !d.byte(',') {
			return Policy{}, false
		}
	}
	if d.i != len(s) || p.Expires.IsZero() || !validPattern(p.Resource) {
		return Policy{}, false
	}
	if !p.NotBefore.IsZero() && !p.NotBefore.Before(p.Expires) {
		return Policy{}, false
	}
	return p, true
}

// policyDecoder is a cursor over a policy's JSON text.
type policyDecoder struct {
	s string
	i int
}

// byte consumes c if it is next.
func (d *policyDecoder) byte(c byte) bool {
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// key consumes `"name":` for a known member at index >= from in
// policyKeys and returns that index.
func (d *policyDecoder) key(from int) (int, bool) {
	for k := from; k < len(policyKeys); k++ {
		name := policyKeys[k]
		end := d.i + len(name) + 3
		if end <= len(d.s) && d.s[d.i] == '"' && d.s[d.i+1:end-2] == name && d.s[end-2] == '"' && d.s[end-1] == ':' {
			d.i = end
			return k, true
		}
	}
	return 0, false
}

// str consumes a non-empty string of at most max bytes, each accepted by
// ok (which never accepts '"' or '\', so there are no escapes).
func (d *policyDecoder) str(ok func(byte) bool, max int) (string, bool) {
	if !d.byte('"') {
		return "", false
	}
	start := d.i
	for d.i < len(d.s) && d.s[d.i] != '"' {
		if !ok(d.s[d.i]) {
			return "", false
		}
		d.i++
	}
	v := d.s[start:d.i]
	if !d.byte('"') || v == "" || len(v) > max {
		return "", false
	}
	return v, true
}

// num consumes a positive decimal integer without leading zero, at most
// maxUnix.
func (d *policyDecoder) num() (int64, bool) {
	start := d.i
	var n int64
	for d.i < len(d.s) && '0' <= d.s[d.i] && d.s[d.i] <= '9' {
		if d.i-start == 12 {
			return 0, false
		}
		n = n*10 + int64(d.s[d.i]-'0')
		d.i++
	}
	if d.i == start || d.s[start] == '0' {
		return 0, false
	}
	return n, true
}

// prefixByte reports whether c may appear in a textual IP prefix.
func prefixByte(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || c == '.' || c == ':' || c == '/'
}

// parseCanonicalPrefix parses v and accepts it only in the form
// appendPolicy writes: host bits clear, no IPv4 mapping, canonical text.
func parseCanonicalPrefix(v string) (netip.Prefix, bool) {
	ip, err := netip.ParsePrefix(v)
	if err != nil {
		return netip.Prefix{}, false
	}
	if c, ok := canonicalPrefix(ip); !ok || c != ip {
		return netip.Prefix{}, false
	}
	var buf [64]byte
	return ip, string(ip.AppendTo(buf[:0])) == v
}
