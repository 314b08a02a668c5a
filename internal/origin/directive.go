package origin

import (
	"net/http"
	"net/url"
	"strconv"
)

// maxPartIndex bounds _HLS_part (live.ParseObjectName uses the same bound
// for part file names).
const maxPartIndex = 1000

// directive is a parsed LL-HLS delivery directive (RFC 8216bis section
// 6.2.5.2): hold the playlist until it holds part Part of segment MSN
// (Part < 0: the whole segment).
type directive struct {
	block bool
	msn   int64
	part  int
}

// parseDirective reads _HLS_msn and _HLS_part from a raw query. It returns
// 400 for malformed or repeated values and for _HLS_part without
// _HLS_msn. Other parameters, _HLS_skip included, are ignored.
func parseDirective(rawQuery string) (directive, int) {
	d := directive{part: -1}
	if rawQuery == "" {
		return d, 0
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return d, http.StatusBadRequest
	}
	msn, hasMSN := q["_HLS_msn"]
	part, hasPart := q["_HLS_part"]
	if !hasMSN {
		if hasPart {
			return d, http.StatusBadRequest
		}
		return d, 0
	}
	if len(msn) != 1 || len(part) > 1 {
		return d, http.StatusBadRequest
	}
	n, ok := parseUint(msn[0])
	if !ok {
		return d, http.StatusBadRequest
	}
	d.block, d.msn = true, n
	if hasPart {
		p, ok := parseUint(part[0])
		if !ok || p > maxPartIndex {
			return d, http.StatusBadRequest
		}
		d.part = int(p)
	}
	return d, 0
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
