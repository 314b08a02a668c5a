package cpix

import (
	"encoding/hex"
	"fmt"
)

// UUID is a 16-byte identifier: a key ID (KID) or a DRM system ID. CPIX
// writes it as RFC 9562 text, "873f3740-2508-4a2d-94bc-9b0f86649251"; the
// 16 bytes are those of 'tenc' default_KID and 'pssh' KID fields, in the
// order the text shows them (big-endian, no Microsoft GUID byte swap).
type UUID [16]byte

// ParseUUID parses the canonical text form of a UUID: 32 hexadecimal
// digits (either case) in groups of 8-4-4-4-12 separated by hyphens.
// Braces, "urn:uuid:" prefixes and unhyphenated forms are refused.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	if len(s) != 36 {
		return u, fmt.Errorf("uuid %q: want 36 characters, have %d", clip(s), len(s))
	}
	j := 0
	for i := 0; i < 36; {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return u, fmt.Errorf("uuid %q: want '-' at offset %d", clip(s), i)
			}
			i++
			continue
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return u, fmt.Errorf("uuid %q: not a hexadecimal digit at offset %d", clip(s), i)
		}
		u[j] = hi<<4 | lo
		j++
		i += 2
	}
	return u, nil
}

// String returns the canonical lowercase text form.
func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	return string(b[:])
}

// Hex returns the 32 lowercase hexadecimal digits without hyphens (the
// form of HLS KEYID=0x... and of onair's license URLs).
func (u UUID) Hex() string {
	return hex.EncodeToString(u[:])
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// clip shortens s for an error message.
func clip(s string) string {
	const n = 40
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
