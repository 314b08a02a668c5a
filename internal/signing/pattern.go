package signing

import (
	"net/url"
	"strings"
)

// maxPattern is the longest resource pattern a policy may carry, in bytes.
const maxPattern = 512

// patternByte reports whether c may appear in a resource pattern: the
// RFC 3986 unreserved and sub-delims characters that need no escaping in a
// path, ':', '@', '/' and the wildcard '*'. Left out on purpose: '%' (a
// pattern is matched against the decoded path), '?' and '#' (never part
// of a path), ';' (not allowed in a cookie Path), '"' and '\' (so the
// policy JSON never needs an escape).
func patternByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,=:@/", c) >= 0
}

// validPattern reports whether p is a resource pattern the package signs:
// an absolute path of at most maxPattern pattern bytes whose segments
// (with '*' read as an ordinary character) are acceptable request-path
// segments, so the pattern is something a cleaned path can match.
func validPattern(p string) bool {
	if len(p) == 0 || len(p) > maxPattern || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if !patternByte(p[i]) {
			return false
		}
	}
	return validSegments(p)
}

// validSegments reports whether the absolute path p has no empty segment
// (except a trailing slash) and no dot segment: no "." or "..", also not
// before a ';' parameter ("..;x"), which some servers strip.
func validSegments(p string) bool {
	for rest := p[1:]; ; {
		seg, tail, more := strings.Cut(rest, "/")
		if seg == "" && more {
			return false // "//"
		}
		if name, _, _ := strings.Cut(seg, ";"); name == "." || name == ".." {
			return false
		}
		if !more {
			return true
		}
		rest = tail
	}
}

// matchPattern reports whether name matches pattern, in which '*' matches
// any run of bytes, '/' included, and every other byte matches itself.
// Only the last '*' seen is ever backtracked to, so the cost is at most
// len(pattern) x len(name) byte comparisons, never exponential.
func matchPattern(pattern, name string) bool {
	px, nx := 0, 0
	nextPx, nextNx := 0, 0
	for px < len(pattern) || nx < len(name) {
		if px < len(pattern) {
			c := pattern[px]
			if c == '*' {
				// Try matching the empty run first; on a mismatch
				// come back and let this '*' take one more byte.
				nextPx, nextNx = px, nx+1
				px++
				continue
			}
			if nx < len(name) && name[nx] == c {
				px++
				nx++
				continue
			}
		}
		if 0 < nextNx && nextNx <= len(name) {
			px, nx = nextPx, nextNx
			continue
		}
		return false
	}
	return true
}

// cookiePath returns the Path for a cookie carrying a policy with the
// given pattern: the pattern's fixed prefix (before the first '*') up to
// and including its last '/', so the browser sends the cookie with every
// request the pattern can match (RFC 6265 section 5.1.4) and, as far as a
// path prefix allows, no other.
func cookiePath(pattern string) string {
	fixed := pattern
	if i := strings.IndexByte(fixed, '*'); i >= 0 {
		fixed = fixed[:i]
	}
	return fixed[:strings.LastIndexByte(fixed, '/')+1]
}

// cleanPath turns a request's escaped path (url.URL.EscapedPath) into the
// decoded path a pattern is matched against, or reports false for a path
// that could address something outside the pattern through another
// server's normalization: not absolute, an encoded or literal backslash,
// an encoded slash ("%2F": one segment here, two after a later decode), a
// bad escape, a '%' left after decoding (double encoding), a control
// character, an empty segment or a dot segment (also when written
// "%2e%2e" or followed by ";params"). Paths made only of pattern bytes
// are returned without allocating.
func cleanPath(escaped string) (string, bool) {
	if len(escaped) == 0 || escaped[0] != '/' || strings.IndexByte(escaped, '\\') >= 0 {
		return "", false
	}
	decoded := escaped
	if strings.IndexByte(escaped, '%') >= 0 {
		if containsFold(escaped, "%2f") || containsFold(escaped, "%5c") {
			return "", false
		}
		var err error
		if decoded, err = url.PathUnescape(escaped); err != nil {
			return "", false
		}
		if strings.IndexByte(decoded, '%') >= 0 || strings.IndexByte(decoded, '\\') >= 0 {
			return "", false
		}
	}
	for i := 0; i < len(decoded); i++ {
		if c := decoded[i]; c < 0x20 || c == 0x7f {
			return "", false
		}
	}
	if !validSegments(decoded) {
		return "", false
	}
	return decoded, true
}

// containsFold reports whether s contains the ASCII string sub, ignoring
// case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
