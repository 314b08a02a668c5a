package edge

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// bodyETag is the strong entity tag the edge gives a 200 whose upstream
// sent none (RFC 9110 section 8.8.3): the first 128 bits of the body's
// SHA-256, so every edge of a tier derives the same tag for the same bytes
// and a downstream edge can revalidate against its shield.
func bodyETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// scanETag reads one entity-tag (RFC 9110 section 8.8.3: [W/] DQUOTE
// *etagc DQUOTE) from the start of s after optional whitespace; rest is
// what follows it. ok is false when s does not start with an entity-tag.
func scanETag(s string) (tag string, weak bool, rest string, ok bool) {
	s = strings.TrimLeft(s, " \t")
	if strings.HasPrefix(s, "W/") {
		weak, s = true, s[2:]
	}
	if len(s) < 2 || s[0] != '"' {
		return "", false, "", false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return s[:i+1], weak, s[i+1:], true
		case c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80:
		default:
			return "", false, "", false
		}
	}
	return "", false, "", false
}

// matchesNoneMatch reports whether an If-None-Match field value matches
// etag by the weak comparison (RFC 9110 section 13.1.2): "*" matches any
// current representation; otherwise the opaque tags compare equal, W/
// ignored. A malformed list matches nothing from the first bad member on.
func matchesNoneMatch(field, etag string) bool {
	if strings.TrimSpace(field) == "*" {
		return true
	}
	want, _, _, ok := scanETag(etag)
	if !ok {
		return false
	}
	for s := field; ; {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return false
		}
		tag, _, rest, ok := scanETag(s)
		if !ok {
			return false
		}
		if tag == want {
			return true
		}
		s = rest
	}
}

// strongMatch reports whether an If-Range entity-tag equals etag by the
// strong comparison (RFC 9110 section 8.8.3.2): neither may be weak.
func strongMatch(field, etag string) bool {
	a, aw, arest, aok := scanETag(field)
	b, bw, _, bok := scanETag(etag)
	return aok && bok && !aw && !bw && strings.TrimSpace(arest) == "" && a == b
}

// notModified evaluates a GET or HEAD's preconditions against a cached
// 200 with entity tag etag and modification time lastModified (zero:
// unknown), in RFC 9110 section 13.2.2's order: If-None-Match when
// present, else If-Modified-Since. True means 304 (section 15.4.5).
func notModified(r *http.Request, etag string, lastModified time.Time) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 {
		return matchesNoneMatch(strings.Join(inm, ","), etag)
	}
	ims := r.Header.Get("If-Modified-Since")
	if ims == "" || lastModified.IsZero() {
		return false
	}
	t, err := http.ParseTime(ims)
	if err != nil {
		return false // an invalid date is ignored (section 13.1.3)
	}
	return !lastModified.Truncate(time.Second).After(t)
}

// isConditional reports whether r carries a precondition notModified
// evaluates.
func isConditional(r *http.Request) bool {
	return r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != ""
}

// notModifiedHeaders are the fields a 304 repeats from the 200 it stands
// for (RFC 9110 section 15.4.5); the rest of the representation metadata
// stays with the viewer's copy.
var notModifiedHeaders = [...]string{"Cache-Control", "Content-Location", "Expires", "Vary"}

// writeNotModified answers a matching precondition: 304 with the fields
// section 15.4.5 asks for, the CORS fields (a browser checks them on the
// revalidation too), Age and X-Cache. Last-Modified is kept only when
// there is no entity tag, as section 15.4.5 suggests.
func writeNotModified(w http.ResponseWriter, header http.Header, etag string, age time.Duration, label string) {
	h := w.Header()
	for _, name := range notModifiedHeaders {
		if v := header[name]; v != nil {
			h[name] = v
		}
	}
	for name, v := range header {
		if strings.HasPrefix(name, "Access-Control-") {
			h[name] = v
		}
	}
	switch {
	case etag != "":
		h.Set("ETag", etag)
	case header.Get("Last-Modified") != "":
		h["Last-Modified"] = header["Last-Modified"]
	}
	writeHead(w, nil, age, label)
	w.WriteHeader(http.StatusNotModified)
}
