package license

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// CORS response values (Fetch standard, section 3.2 "CORS protocol").
const (
	corsAllowHeaders = "Authorization, Content-Type"
	corsMaxAge       = 600 // seconds a browser may cache a preflight answer
)

// cors decides which page origins may read license responses. The token
// travels in a header or the URL, never in a cookie, so allowing any
// origin is safe: a page can only use a token it already holds. Players
// that send license requests with credentials (dash.js does by default)
// need the origin echoed and Access-Control-Allow-Credentials: no cookie
// grants anything here, so that is safe as well.
type cors struct {
	any     bool            // "*" was listed
	origins map[string]bool // exact origins, "https://player.example:8443"
}

// newCORS validates an allow-list: "*" or origins in serialized form
// (scheme "://" host [":" port], no path, no trailing slash). An empty
// list means "*".
func newCORS(allow []string) (cors, error) {
	c := cors{origins: map[string]bool{}}
	if len(allow) == 0 || slices.Contains(allow, "*") {
		c.any = true
		return c, nil
	}
	for _, o := range allow {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.Scheme+"://"+u.Host != o {
			return cors{}, fmt.Errorf("allowed origin %q: want \"*\" or scheme://host[:port]", o)
		}
		c.origins[o] = true
	}
	return c, nil
}

// header sets the CORS response headers for a request from origin (the
// Origin request header; "" for a request that is not cross-origin).
func (c cors) header(h http.Header, origin string) {
	switch {
	case c.any && origin == "":
		h.Set("Access-Control-Allow-Origin", "*")
	case c.any || origin != "" && c.origins[origin]:
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
	default:
		h.Add("Vary", "Origin")
	}
}

// preflight answers an OPTIONS request for a license URL whose methods
// are allow (e.g. "POST, OPTIONS"): 204 with Allow, plus what a CORS
// preflight needs when the origin is allowed (CORS headers were set by
// header already).
func (c cors) preflight(w http.ResponseWriter, r *http.Request, allow string) {
	h := w.Header()
	h.Set("Allow", allow)
	if h.Get("Access-Control-Allow-Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", allow)
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", strconv.Itoa(corsMaxAge))
	}
	w.WriteHeader(http.StatusNoContent)
}
