package edge

import (
	"strconv"
	"strings"
)

// byteRange is a resolved single byte range [start, end] (inclusive).
type byteRange struct {
	start, end int64
}

// rangeResult says what to do with a Range header.
type rangeResult int

const (
	rangeNone          rangeResult = iota // serve the whole object (no or ignorable Range)
	rangePartial                          // serve the range (206)
	rangeUnsatisfiable                    // 416
)

// parseRange resolves a Range header against an object of size bytes
// (RFC 9110 section 14.2). Only one range is served: a multi-range request
// gets the whole object, which section 14.2 allows. A malformed or
// unsatisfiable single range gets 416. Same rules as internal/origin.
func parseRange(h string, size int64) (byteRange, rangeResult) {
	if h == "" {
		return byteRange{}, rangeNone
	}
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok {
		return byteRange{}, rangeUnsatisfiable
	}
	spec = strings.TrimSpace(spec)
	if strings.IndexByte(spec, ',') >= 0 {
		return byteRange{}, rangeNone
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return byteRange{}, rangeUnsatisfiable
	}
	if first == "" {
		// Suffix range: the last n bytes.
		n, ok := parseUint(last)
		if !ok || n == 0 || size == 0 {
			return byteRange{}, rangeUnsatisfiable
		}
		n = min(n, size)
		return byteRange{start: size - n, end: size - 1}, rangePartial
	}
	start, ok := parseUint(first)
	if !ok || start >= size {
		return byteRange{}, rangeUnsatisfiable
	}
	end := size - 1
	if last != "" {
		e, ok := parseUint(last)
		if !ok || e < start {
			return byteRange{}, rangeUnsatisfiable
		}
		end = min(e, size-1)
	}
	return byteRange{start: start, end: end}, rangePartial
}

// parseUint parses a non-negative decimal of digits only.
func parseUint(s string) (int64, bool) {
	if !allDigits(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
