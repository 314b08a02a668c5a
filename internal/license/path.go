package license

import (
	"encoding/hex"
	"strings"

	"onair/internal/live"
)

// Request kinds: the kind label of onair_license_requests_total.
const (
	kindClearKey = "clearkey" // POST {prefix}{channel}/clearkey
	kindAES128   = "aes128"   // GET {prefix}{channel}/aes128/{kid}
	kindOther    = "other"    // a path that is neither
)

// route is what a license URL path names.
type route struct {
	kind    string // kindClearKey or kindAES128
	channel string // live.ValidChannelName
	kid     [16]byte
}

// parsePath parses the escaped path of a license request below prefix
// (which ends in '/'):
//
//	{prefix}{channel}/clearkey
//	{prefix}{channel}/aes128/{kid}
//
// channel follows live.ValidChannelName and kid is 32 hexadecimal digits
// (the 16-byte key ID, either case; the form CPIX and the EXT-X-KEY URI
// use). Nothing else matches: no trailing slash, no escapes, no empty
// or dot segments.
func parsePath(prefix, path string) (route, bool) {
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok {
		return route{}, false
	}
	channel, rest, ok := strings.Cut(rest, "/")
	if !ok || !live.ValidChannelName(channel) {
		return route{}, false
	}
	if rest == kindClearKey {
		return route{kind: kindClearKey, channel: channel}, true
	}
	hexKid, ok := strings.CutPrefix(rest, kindAES128+"/")
	if !ok || len(hexKid) != 32 {
		return route{}, false
	}
	r := route{kind: kindAES128, channel: channel}
	if _, err := hex.Decode(r.kid[:], []byte(hexKid)); err != nil {
		return route{}, false
	}
	return r, true
}
