package edge

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxDelta caps delta-seconds values so durations never overflow (RFC 9111
// section 1.2.2 allows caps of at least 2^31 seconds; a year is plenty for
// a live cache).
const maxDelta = 365 * 24 * time.Hour

// cacheControl is the subset of a response's Cache-Control an edge acts on
// (RFC 9111 section 5.2.2, RFC 5861).
type cacheControl struct {
	maxAge, sMaxAge       time.Duration
	hasMaxAge, hasSMaxAge bool
	noStore, noCache      bool
	private               bool
	swr, sie              time.Duration // stale-while-revalidate, stale-if-error
	hasSWR, hasSIE        bool
}

// parseCacheControl parses every Cache-Control field line in h. Unknown
// directives are ignored; an invalid delta-seconds counts as 0 (stale),
// as RFC 9111 section 4.2.1 asks.
func parseCacheControl(h []string) cacheControl {
	var cc cacheControl
	for _, line := range h {
		for d := range strings.SplitSeq(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
			name = strings.ToLower(strings.TrimSpace(name))
			value = strings.Trim(strings.TrimSpace(value), `"`)
			switch name {
			case "max-age":
				cc.maxAge, cc.hasMaxAge = parseDelta(value), true
			case "s-maxage":
				cc.sMaxAge, cc.hasSMaxAge = parseDelta(value), true
			case "no-store":
				cc.noStore = true
			case "no-cache":
				cc.noCache = true
			case "private":
				cc.private = true
			case "stale-while-revalidate":
				cc.swr, cc.hasSWR = parseDelta(value), true
			case "stale-if-error":
				cc.sie, cc.hasSIE = parseDelta(value), true
			}
		}
	}
	return cc
}

// parseDelta parses delta-seconds: digits only; 0 when invalid, capped at
// maxDelta.
func parseDelta(s string) time.Duration {
	if !allDigits(s) {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > int64(maxDelta/time.Second) {
		return maxDelta // only overflow can fail here
	}
	return time.Duration(n) * time.Second
}

// parseUint parses a non-negative decimal of digits only.
func parseUint(s string) (int64, bool) {
	if !allDigits(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// freshness is what the cache policy decides for one upstream response.
type freshness struct {
	store    bool          // may be kept in the cache
	lifetime time.Duration // freshness lifetime, Age not deducted
	age      time.Duration // the upstream's Age header
	swr      time.Duration // extra time an expired copy may be served while revalidating
	sie      time.Duration // extra time an expired copy may be served when the upstream fails; < 0: unbounded
}

// policy applies RFC 9111 section 3 to a response for a shared cache: only
// 200 and 404, no no-store, private or no-cache (this cache revalidates
// only once a response has expired, never on every use), no Vary, a positive lifetime left after Age. kind decides
// the stale windows when the response does not set them: manifests may be
// served stale while revalidating for one more lifetime; immutable objects
// on error for as long as they are cached.
func policy(status int, h http.Header, kind requestKind) freshness {
	cc := parseCacheControl(h.Values("Cache-Control"))
	f := freshness{age: parseDelta(h.Get("Age"))}
	switch {
	case cc.hasSMaxAge:
		f.lifetime = cc.sMaxAge
	case cc.hasMaxAge:
		f.lifetime = cc.maxAge
	}
	f.store = (status == http.StatusOK || status == http.StatusNotFound) &&
		!cc.noStore && !cc.noCache && !cc.private &&
		(cc.hasSMaxAge || cc.hasMaxAge) && f.lifetime > f.age &&
		len(h.Values("Vary")) == 0
	if !f.store {
		return freshness{age: f.age}
	}
	switch {
	case cc.hasSWR:
		f.swr = cc.swr
	case kind == kindManifest:
		f.swr = f.lifetime
	}
	switch {
	case cc.hasSIE:
		f.sie = cc.sie
	case kind == kindObject:
		f.sie = -1
	}
	return f
}
