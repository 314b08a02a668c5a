package signing

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// Size limits of the wire format, in bytes.
const (
	// MaxTokenSize is the longest token Verify reads.
	MaxTokenSize = 2048
	// MaxPolicySize is the longest policy JSON a token may carry.
	MaxPolicySize = 1024
	// maxField is the longest session, tenant or channel value.
	maxField = 64
	// maxUnix bounds expires and not_before (12 digits, year 33658), so
	// the numbers are parsed without overflow checks.
	maxUnix = 999_999_999_999
)

// Policy is what a token grants: requests for paths matching Resource,
// from an address in IP (if set), between NotBefore (if set) and Expires.
// Session, Tenant and Channel are carried to the verifier for its own use
// (revocation by session, accounting); Verify does not check them.
type Policy struct {
	// Resource is a path pattern, e.g. "/live/news/*": an absolute path
	// in which '*' matches any run of characters, '/' included. It is
	// matched against the request's decoded path only, never the host
	// or the query, so one token works behind any hostname. Allowed
	// bytes: A-Z a-z 0-9 and - . _ ~ ! $ & ' ( ) * + , = : @ /; no
	// empty or dot segments; at most 512 bytes. '?' is not a wildcard
	// (and not allowed: a path never contains one).
	Resource string
	// Expires is when the token stops being valid. Required; carried in
	// whole seconds (rounded down).
	Expires time.Time
	// NotBefore, if not zero, is when the token starts being valid; it
	// must be before Expires. Whole seconds, rounded down.
	NotBefore time.Time
	// IP, if valid, is the prefix the client address must be in (IPv4
	// or IPv6; a single address is a /32 or /128). Host bits are cleared
	// and an IPv4-mapped IPv6 prefix is signed as the IPv4 one.
	IP netip.Prefix
	// Session is an optional opaque viewer session id, for revocation.
	Session string
	// Tenant and Channel are optional labels.
	Tenant  string
	Channel string
}

// fieldByte reports whether c may appear in Session, Tenant or Channel:
// printable ASCII except '"' and '\', so the JSON never needs an escape.
func fieldByte(c byte) bool {
	return 0x21 <= c && c <= 0x7e && c != '"' && c != '\\'
}

// normalize returns p as it is signed (whole seconds, UTC, the canonical
// prefix) or an error wrapping ErrInvalidPolicy naming the first problem.
func (p Policy) normalize() (Policy, error) {
	if !validPattern(p.Resource) {
		return Policy{}, fmt.Errorf("%w: resource %q is not an absolute path pattern of allowed characters", ErrInvalidPolicy, p.Resource)
	}
	if p.Expires.IsZero() || p.Expires.Unix() <= 0 || p.Expires.Unix() > maxUnix {
		return Policy{}, fmt.Errorf("%w: expires must be set, after 1970 and before year 33658", ErrInvalidPolicy)
	}
	p.Expires = time.Unix(p.Expires.Unix(), 0).UTC()
	if !p.NotBefore.IsZero() {
		nb := p.NotBefore.Unix()
		if nb <= 0 || nb >= p.Expires.Unix() {
			return Policy{}, fmt.Errorf("%w: not_before must be after 1970 and before expires", ErrInvalidPolicy)
		}
		p.NotBefore = time.Unix(nb, 0).UTC()
	}
	if p.IP.IsValid() {
		ip, ok := canonicalPrefix(p.IP)
		if !ok {
			return Policy{}, fmt.Errorf("%w: ip prefix %s has a zone or maps IPv4 with fewer than 96 bits", ErrInvalidPolicy, p.IP)
		}
		p.IP = ip
	} else {
		p.IP = netip.Prefix{}
	}
	for _, f := range []struct{ name, v string }{{"session", p.Session}, {"tenant", p.Tenant}, {"channel", p.Channel}} {
		if !validField(f.v) {
			return Policy{}, fmt.Errorf("%w: %s must be at most %d printable ASCII characters without '\"' or '\\'", ErrInvalidPolicy, f.name, maxField)
		}
	}
	return p, nil
}

// canonicalPrefix returns ip with its host bits cleared and an
// IPv4-mapped address unmapped, or false if it has a zone or maps IPv4
// with fewer than 96 bits.
func canonicalPrefix(ip netip.Prefix) (netip.Prefix, bool) {
	a, bits := ip.Addr(), ip.Bits()
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

// validField reports whether v is an acceptable optional string field
// (empty means absent).
func validField(v string) bool {
	if len(v) > maxField {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !fieldByte(v[i]) {
			return false
		}
	}
	return true
}

// appendPolicy appends the canonical JSON encoding of the normalized
// policy p: one object, members sorted by name, absent optional members
// left out, integers in decimal, no whitespace, no escapes (the field
// grammars exclude every byte that would need one). The result is the
// RFC 8785 (JCS) canonical form of the same object, so an independent
// signer can produce byte-identical policies.
func appendPolicy(b []byte, p Policy) []byte {
	start := len(b)
	b = append(b, '{')
	sep := func() {
		if len(b) > start+1 {
			b = append(b, ',')
		}
	}
	str := func(name, v string) {
		if v == "" {
			return
		}
		sep()
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":"`...)
		b = append(b, v...)
		b = append(b, '"')
	}
	num := func(name string, t time.Time) {
		if t.IsZero() {
			return
		}
		sep()
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
		b = strconv.AppendInt(b, t.Unix(), 10)
	}
	// Alphabetical order.
	str("channel", p.Channel)
	num("expires", p.Expires)
	if p.IP.IsValid() {
		sep()
		b = append(b, `"ip":"`...)
		b = p.IP.AppendTo(b)
		b = append(b, '"')
	}
	num("not_before", p.NotBefore)
	str("resource", p.Resource)
	str("session", p.Session)
	str("tenant", p.Tenant)
	return append(b, '}')
}
