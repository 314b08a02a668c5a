package origin

import (
	"net/http"
	"strconv"

	"onair/internal/format/hls"
)

// maxPartIndex bounds _HLS_part.
const maxPartIndex = hls.MaxPartIndex

// directive is a parsed LL-HLS delivery directive (hls.Directive): hold
// the playlist until it holds part part of segment msn (part < 0: the
// whole segment).
type directive struct {
	block bool
	msn   int64
	part  int
}

// parseDirective reads _HLS_msn and _HLS_part from a raw query
// (hls.ParseDirective); a malformed directive is a 400.
func parseDirective(rawQuery string) (directive, int) {
	d, err := hls.ParseDirective(rawQuery)
	if err != nil {
		return directive{part: -1}, http.StatusBadRequest
	}
	return directive{block: d.Block, msn: d.MSN, part: d.Part}, 0
}

// parseUint parses a plain decimal number (no sign, at most 18 digits, so
// it always fits an int64).
func parseUint(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
