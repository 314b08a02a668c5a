// Package httprange resolves an HTTP Range request header against an
// object of known size (RFC 9110 section 14.2), for every role that serves
// media objects (origin, edge). It serves one range at most: a multi-range
// request gets the whole object, which section 14.2 allows.
//
// httprange is pure: no I/O, imports no internal package, safe for
// concurrent use.
package httprange

import (
	"strconv"
	"strings"
)

// Range is a resolved single byte range [Start, End], End inclusive.
type Range struct {
	Start, End int64
}

// Result says what to do with a Range header.
type Result int

// Results.
const (
	None          Result = iota // serve the whole object (no or ignorable Range)
	Partial                     // serve the range (206)
	Unsatisfiable               // 416
)

// Parse resolves header h against an object of size bytes. A malformed or
// unsatisfiable single range is Unsatisfiable.
func Parse(h string, size int64) (Range, Result) {
	if h == "" {
		return Range{}, None
	}
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok {
		return Range{}, Unsatisfiable
	}
	spec = strings.TrimSpace(spec)
	if strings.IndexByte(spec, ',') >= 0 {
		return Range{}, None
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return Range{}, Unsatisfiable
	}
	if first == "" {
		// Suffix range: the last n bytes.
		n, ok := parseUint(last)
		if !ok || n == 0 || size == 0 {
			return Range{}, Unsatisfiable
		}
		n = min(n, size)
		return Range{Start: size - n, End: size - 1}, Partial
	}
	start, ok := parseUint(first)
	if !ok || start >= size {
		return Range{}, Unsatisfiable
	}
	end := size - 1
	if last != "" {
		e, ok := parseUint(last)
		if !ok || e < start {
			return Range{}, Unsatisfiable
		}
		end = min(e, size-1)
	}
	return Range{Start: start, End: end}, Partial
}

// parseUint parses a non-negative decimal of ASCII digits only (no sign,
// no spaces).
func parseUint(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
