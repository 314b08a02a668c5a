package waf

import (
	"errors"
	"fmt"
	"strings"

	"onair/internal/live"
)

// ErrURLShape is wrapped by every CheckURL refusal.
var ErrURLShape = errors.New("not a playback url")

// Bounds of a cheap-mode request target.
const (
	maxPathLen  = 512     // internal/origin refuses longer paths (414)
	maxQueryLen = 4 << 10 // a 2048-byte token and the LL-HLS directives fit
	maxTokenLen = 2 << 10 // internal/signing's token limit
	maxParamLen = 256     // a CheapParams value
	maxNumLen   = 18      // an _HLS_msn or _HLS_part, as live.ParseObjectName
	tokenParam  = "onair_token"
)

// CheckURL reports whether target, a request target in origin form (the
// escaped path, then optionally '?' and the raw query, as r.RequestURI
// holds it), is one of onair's playback URLs (internal/origin):
//
//	/live/{channel}/master.m3u8
//	/live/{channel}/manifest.mpd
//	/live/{channel}/{rendition}/index.m3u8
//	/live/{channel}/{rendition}/init.mp4 | init-{n}.mp4 | {n}.m4s | {n}.{p}.m4s
//
// with names of [a-zA-Z0-9_-]{1,64} and object names as
// live.ParseObjectName reads them; the path is at most 512 bytes. Its
// query may hold each of _HLS_msn and _HLS_part (decimal numbers),
// _HLS_skip (YES or v2) and onair_token (a token of [A-Za-z0-9_.-], at
// most 2048 bytes) once, in any order (RFC 8216bis section 6.2.5). Since
// no playback URL needs escaping, any '%' is refused rather than
// decoded, and so are dot segments, empty segments, backslashes, NUL and
// every other character outside those alphabets. A refusal wraps
// ErrURLShape and says why without repeating the target.
func CheckURL(target string) error {
	return checkURL(target, nil)
}

// checkURL is CheckURL with extra allowed query parameter names.
func checkURL(target string, extra map[string]bool) error {
	path, query, _ := strings.Cut(target, "?")
	if err := checkPath(path); err != nil {
		return fmt.Errorf("%w: %s", ErrURLShape, err)
	}
	if err := checkQuery(query, extra); err != nil {
		return fmt.Errorf("%w: %s", ErrURLShape, err)
	}
	return nil
}

// checkPath checks an escaped playback path.
func checkPath(p string) error {
	if len(p) > maxPathLen {
		return errors.New("path too long")
	}
	rest, ok := strings.CutPrefix(p, "/live/")
	if !ok {
		return errors.New("path outside /live/")
	}
	var el [3]string
	n := 0
	for {
		s, tail, more := strings.Cut(rest, "/")
		if err := checkElement(s); err != nil {
			return err
		}
		if n == len(el) {
			return errors.New("too many path elements")
		}
		el[n] = s
		n++
		if !more {
			break
		}
		rest = tail
	}
	if !validName(el[0]) {
		return errors.New("bad channel name")
	}
	switch n {
	case 2:
		if el[1] == "master.m3u8" || el[1] == "manifest.mpd" {
			return nil
		}
	case 3:
		if !validName(el[1]) {
			return errors.New("bad rendition name")
		}
		if el[2] == "index.m3u8" {
			return nil
		}
		if _, ok := live.ParseObjectName(el[2]); ok {
			return nil
		}
	}
	return errors.New("unknown object")
}

// checkElement refuses an empty element (a doubled or trailing slash), a
// dot segment, or a character outside [a-zA-Z0-9._-]: '%' (any encoding),
// '\', NUL, ';' and every other byte no playback path holds.
func checkElement(s string) error {
	if s == "" {
		return errors.New("empty path element")
	}
	if s == "." || s == ".." {
		return errors.New("dot segment")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !nameChar(c) && c != '.' {
			if c == '%' {
				return errors.New("percent-encoding in path")
			}
			return errors.New("bad character in path")
		}
	}
	return nil
}

// checkQuery checks a raw query string.
func checkQuery(q string, extra map[string]bool) error {
	if q == "" {
		return nil
	}
	if len(q) > maxQueryLen {
		return errors.New("query too long")
	}
	var seen [4]bool // _HLS_msn, _HLS_part, _HLS_skip, onair_token
	var seenExtra map[string]bool
	for pair := range strings.SplitSeq(q, "&") {
		name, value, hasValue := strings.Cut(pair, "=")
		var i int
		var ok bool
		switch name {
		case "_HLS_msn":
			i, ok = 0, isNumber(value)
		case "_HLS_part":
			i, ok = 1, isNumber(value)
		case "_HLS_skip":
			i, ok = 2, value == "YES" || value == "v2"
		case tokenParam:
			i, ok = 3, value != "" && len(value) <= maxTokenLen && isToken(value)
		default:
			if !extra[name] {
				return errors.New("query parameter not allowed")
			}
			if seenExtra[name] {
				return errors.New("repeated query parameter")
			}
			if seenExtra == nil {
				seenExtra = make(map[string]bool, len(extra))
			}
			seenExtra[name] = true
			if len(value) > maxParamLen || !isValue(value) {
				return errors.New("bad query parameter value")
			}
			continue
		}
		if seen[i] {
			return errors.New("repeated query parameter")
		}
		seen[i] = true
		if !hasValue || !ok {
			return errors.New("bad query parameter value")
		}
	}
	return nil
}

// validName reports whether s is a channel or rendition name as
// internal/origin accepts it: [a-zA-Z0-9_-]{1,64}.
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

// isNumber reports whether s is 1-18 decimal digits.
func isNumber(s string) bool {
	if s == "" || len(s) > maxNumLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isToken reports whether s holds only the characters of a signed token:
// base64url and '.' (internal/signing).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !nameChar(c) && c != '.' {
			return false
		}
	}
	return true
}

// isValue reports whether s holds only RFC 3986 unreserved characters.
func isValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if !valueChar(s[i]) {
			return false
		}
	}
	return true
}

func valueChar(c byte) bool { return nameChar(c) || c == '.' || c == '~' }
