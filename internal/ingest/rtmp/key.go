package rtmp

import (
	"errors"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxKeyLen bounds a stream key; longer ones are not keys.
const maxKeyLen = 256

// streamKey returns the stream key of a publish URL: the last element of
// its path (rtmp://host/live/KEY -> KEY), with anything from a '?' on
// stripped (OBS puts "KEY?param" in the stream name). The first element is
// the RTMP application, so a path with a single element has no key.
func streamKey(u *url.URL) (string, error) {
	if u == nil {
		return "", errors.New("publish request without url")
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 {
		return "", errors.New("publish url has no stream key (want rtmp://host/live/KEY)")
	}
	key := parts[len(parts)-1]
	if i := strings.IndexByte(key, '?'); i >= 0 {
		key = key[:i]
	}
	switch {
	case key == "":
		return "", errors.New("publish url has an empty stream key")
	case len(key) > maxKeyLen:
		return "", errors.New("stream key too long")
	case !utf8.ValidString(key) || strings.ContainsFunc(key, unicode.IsControl):
		return "", errors.New("stream key has invalid characters")
	}
	return key, nil
}
