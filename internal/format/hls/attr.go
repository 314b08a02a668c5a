package hls

import (
	"strconv"
	"time"
)

// appendSeconds writes d as a decimal-floating-point number of seconds with
// at least 3 and at most 5 decimals (10 µs resolution, finer than one 90 kHz
// tick needs for rounding to be harmless; section 4.2).
func appendSeconds(b []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	// Round to 10 µs, then print integer and fractional parts exactly.
	units := (int64(d) + 5_000) / 10_000 // 1e-5 s units
	b = strconv.AppendInt(b, units/100_000, 10)
	frac := units % 100_000
	digits := [5]byte{}
	for i := 4; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 5
	for n > 3 && digits[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, digits[:n]...)
}

// appendDateTime writes t as an ISO 8601 date-time in UTC with millisecond
// precision (section 4.4.4.6, EXT-X-PROGRAM-DATE-TIME).
func appendDateTime(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
}

// appendQuoted writes a quoted-string attribute value, dropping the
// characters section 4.2 forbids inside it.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\r', '\n':
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// appendLine writes a URI line, dropping CR and LF
// so a value can never start a new tag line.
func appendLine(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '\r' && c != '\n' {
			b = append(b, c)
		}
	}
	return append(b, '\n')
}

func appendYesNo(b []byte, v bool) []byte {
	if v {
		return append(b, "YES"...)
	}
	return append(b, "NO"...)
}
