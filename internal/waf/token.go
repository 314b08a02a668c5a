package waf

import (
	"net/http"
	"strings"
)

// DefaultToken returns the credential a request carries, for the
// per-token rate limit: the onair_token query parameter (a signed
// playback token, internal/signing), else the onair_token cookie, else
// the credentials of an "Authorization: Bearer" header (an operator or
// API token); "" when there is none. The value is not verified: a
// client that invents tokens is still held by its address's limit.
func DefaultToken(r *http.Request) string {
	if t := queryParam(r.URL.RawQuery, tokenParam); t != "" {
		return t
	}
	if c, err := r.Cookie(tokenParam); err == nil && c.Value != "" {
		return c.Value
	}
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// queryParam returns the raw (still escaped) value of the first
// parameter called name in a raw query, without parsing the rest: it
// runs on every request.
func queryParam(rawQuery, name string) string {
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		if v, ok := strings.CutPrefix(pair, name); ok && strings.HasPrefix(v, "=") {
			return v[1:]
		}
	}
	return ""
}
