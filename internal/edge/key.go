package edge

import (
	"net/url"
	"slices"
	"strings"
)

// keptParams are the LL-HLS delivery directives (RFC 8216bis section
// 6.2.5): they select the response, so they are never stripped.
var keptParams = [...]string{"_HLS_msn", "_HLS_part", "_HLS_skip"}

// requestKind decides timeouts and stale windows.
type requestKind int

const (
	kindObject   requestKind = iota // segment, part, init segment, anything else: immutable
	kindManifest                    // HLS playlist or DASH MPD: changes every part
)

// target is a request as the cache sees it.
type target struct {
	key      string // path + "?" + normalized query; also the upstream request target
	kind     requestKind
	blocking bool // LL-HLS blocking playlist reload (_HLS_msn present)
}

// newTarget normalizes a request URL: the escaped path as sent, then the
// query parameters sorted by name (values sorted too), without the ones
// in strip (lower-case names). A query that does not parse is kept as far
// as it parses.
func newTarget(u *url.URL, strip map[string]bool) target {
	path := u.EscapedPath()
	q, _ := url.ParseQuery(u.RawQuery)
	for name := range q {
		if strip[strings.ToLower(name)] {
			delete(q, name)
		}
	}
	for _, v := range q {
		slices.Sort(v)
	}
	t := target{key: path}
	if enc := q.Encode(); enc != "" {
		t.key += "?" + enc
	}
	lower := strings.ToLower(path)
	if strings.HasSuffix(lower, ".m3u8") || strings.HasSuffix(lower, ".mpd") {
		t.kind = kindManifest
		t.blocking = q.Has("_HLS_msn")
	}
	return t
}

// hasDotSegment reports whether an escaped path has a "." or ".." element,
// which a proxy must not pass on (RFC 3986 section 5.2.4).
func hasDotSegment(path string) bool {
	for elem := range strings.SplitSeq(path, "/") {
		if elem == "." || elem == ".." {
			return true
		}
	}
	return false
}
