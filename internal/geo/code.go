package geo

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// normalizeCode returns s upper-cased if it is two ASCII letters. An
// upper-case s is returned as is, without allocating.
func normalizeCode(s string) (string, bool) {
	if len(s) != 2 || !isLetter(s[0]) || !isLetter(s[1]) {
		return "", false
	}
	if isUpper(s[0]) && isUpper(s[1]) {
		return s, true
	}
	return strings.ToUpper(s), true
}

func isLetter(c byte) bool { return isUpper(c) || 'a' <= c && c <= 'z' }

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

// normalizeList upper-cases, sorts and de-duplicates codes, or names
// every entry that is not two ASCII letters.
func normalizeList(codes []string) ([]string, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(codes))
	var bad []string
	for _, c := range codes {
		n, ok := normalizeCode(c)
		if !ok {
			bad = append(bad, strconv.Quote(c))
			continue
		}
		out = append(out, n)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: not a two-letter country code", strings.Join(bad, ", "))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// ParseList parses a list of country codes separated by commas and/or
// white space, such as "DE, fr ,US", into upper-case codes, sorted and
// de-duplicated. Empty entries are skipped, so "" is the empty list
// (nil). Every entry that is not two ASCII letters is reported at once.
func ParseList(s string) ([]string, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
	codes, err := normalizeList(fields)
	if err != nil {
		return nil, fmt.Errorf("parse country list: %w", err)
	}
	return codes, nil
}
