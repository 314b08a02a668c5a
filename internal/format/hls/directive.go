package hls

import (
	"errors"
	"net/url"
	"strconv"
)

// MaxPartIndex bounds _HLS_part (live.ParseObjectName uses the same bound
// for part file names).
const MaxPartIndex = 1000

// Directive is a parsed LL-HLS delivery directive (RFC 8216bis section
// 6.2.5.2): hold the playlist until it holds part Part of segment MSN
// (Part < 0: the whole segment). Block is false when the query has none.
type Directive struct {
	Block bool
	MSN   int64
	Part  int
}

// ErrBadDirective is returned for a malformed directive (a client error).
var ErrBadDirective = errors.New("malformed _HLS_msn or _HLS_part")

// ParseDirective reads _HLS_msn and _HLS_part from a raw query. Malformed
// or repeated values, and _HLS_part without _HLS_msn, are ErrBadDirective.
// Other parameters, _HLS_skip included, are ignored.
func ParseDirective(rawQuery string) (Directive, error) {
	d := Directive{Part: -1}
	if rawQuery == "" {
		return d, nil
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return d, ErrBadDirective
	}
	msn, hasMSN := q["_HLS_msn"]
	part, hasPart := q["_HLS_part"]
	if !hasMSN {
		if hasPart {
			return d, ErrBadDirective
		}
		return d, nil
	}
	if len(msn) != 1 || len(part) > 1 {
		return d, ErrBadDirective
	}
	n, ok := parseDecimal(msn[0])
	if !ok {
		return d, ErrBadDirective
	}
	d.Block, d.MSN = true, n
	if hasPart {
		p, ok := parseDecimal(part[0])
		if !ok || p > MaxPartIndex {
			return d, ErrBadDirective
		}
		d.Part = int(p)
	}
	return d, nil
}

// Query is the directive as a query string (parameters sorted), "" when
// it does not block.
func (d Directive) Query() string {
	if !d.Block {
		return ""
	}
	q := "_HLS_msn=" + strconv.FormatInt(d.MSN, 10)
	if d.Part >= 0 {
		q += "&_HLS_part=" + strconv.Itoa(d.Part)
	}
	return q
}

// parseDecimal parses a plain decimal number (no sign, at most 18 digits,
// so it always fits an int64).
func parseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}
