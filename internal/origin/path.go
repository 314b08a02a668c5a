package origin

import (
	"net/http"
	"strings"

	"onair/internal/live"
)

// maxPathLen bounds a request path; longer paths get 414.
const maxPathLen = 512

// kind is what a request asks for; it is also the metrics label.
type kind string

const (
	kindMaster  kind = "master"
	kindMedia   kind = "media"
	kindMPD     kind = "mpd"
	kindInit    kind = "init"
	kindSegment kind = "segment"
	kindPart    kind = "part"
	kindOther   kind = "other" // /time, preflights, unroutable requests
)

// route is a parsed playback path.
type route struct {
	kind      kind
	time      bool // the /time endpoint
	channel   string
	rendition string
	object    live.ObjectName // for init, segment and part
}

// parsePath maps an escaped request path to a route. It returns the HTTP
// status for paths it rejects: 400 for malformed ones (percent-encoding,
// dot segments, empty elements, characters outside [a-zA-Z0-9._-], names
// outside [a-zA-Z0-9_-]{1,64}), 414 for over-long ones, 404 for well-formed
// paths that name nothing.
func parsePath(p string) (route, int) {
	other := route{kind: kindOther}
	if len(p) > maxPathLen {
		return other, http.StatusRequestURITooLong
	}
	if p == "/time" {
		return route{kind: kindOther, time: true}, 0
	}
	rest, ok := strings.CutPrefix(p, "/live/")
	if !ok {
		return other, http.StatusNotFound
	}
	// Names and object names never need escaping, so a '%' is refused
	// rather than decoded: encoded slashes and dots never reach a lookup.
	var el [3]string
	n := 0
	for {
		s, tail, more := strings.Cut(rest, "/")
		if status := checkElement(s); status != 0 {
			return other, status
		}
		if n < len(el) {
			el[n] = s
		}
		n++
		if !more {
			break
		}
		rest = tail
	}
	if n > len(el) {
		return other, http.StatusNotFound
	}
	if !validName(el[0]) {
		return other, http.StatusBadRequest
	}
	r := route{kind: kindOther, channel: el[0]}
	switch n {
	case 2:
		switch el[1] {
		case "master.m3u8":
			r.kind = kindMaster
			return r, 0
		case "manifest.mpd":
			r.kind = kindMPD
			return r, 0
		}
	case 3:
		if !validName(el[1]) {
			return other, http.StatusBadRequest
		}
		r.rendition = el[1]
		if el[2] == "index.m3u8" {
			r.kind = kindMedia
			return r, 0
		}
		obj, ok := live.ParseObjectName(el[2])
		if !ok {
			break
		}
		r.object = obj
		switch {
		case obj.Init:
			r.kind = kindInit
		case obj.Part >= 0:
			r.kind = kindPart
		default:
			r.kind = kindSegment
		}
		return r, 0
	}
	return route{kind: kindOther, channel: r.channel, rendition: r.rendition}, http.StatusNotFound
}

// checkElement returns 400 for a path element that no playback URL can
// contain: empty (a doubled or trailing slash), a dot segment, or a
// character outside [a-zA-Z0-9._-] (percent-encoding included).
func checkElement(s string) int {
	if s == "" || s == "." || s == ".." {
		return http.StatusBadRequest
	}
	for i := 0; i < len(s); i++ {
		if !nameChar(s[i]) && s[i] != '.' {
			return http.StatusBadRequest
		}
	}
	return 0
}

// validName reports whether s is a channel or rendition name:
// [a-zA-Z0-9_-]{1,64}.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !nameChar(s[i]) {
			return false
		}
	}
	return true
}

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
