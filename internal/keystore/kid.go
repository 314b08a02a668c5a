package keystore

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// KID is a 16-byte key ID (the default_KID of ISO/IEC 23001-7 tenc).
type KID [16]byte

// NewKID returns a random key ID in UUID version 4 form (RFC 9562
// section 5.4), as CPIX and DASH ContentProtection expect.
func NewKID() (KID, error) {
	var k KID
	if _, err := rand.Read(k[:]); err != nil {
		return KID{}, fmt.Errorf("keystore: key ID: %w", err)
	}
	k[6] = k[6]&0x0f | 0x40 // version 4
	k[8] = k[8]&0x3f | 0x80 // variant 10
	return k, nil
}

// String returns the key ID as 32 lowercase hex digits.
func (k KID) String() string { return hex.EncodeToString(k[:]) }

// UUID returns the key ID in 8-4-4-4-12 UUID form (DASH cenc:default_KID).
func (k KID) UUID() string {
	h := k.String()
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ParseKID parses 32 hex digits, or the 8-4-4-4-12 UUID form; either case.
func ParseKID(s string) (KID, error) {
	h := s
	if len(s) == 36 {
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return KID{}, fmt.Errorf("keystore: key ID %q: want 32 hex digits or a UUID", s)
		}
		h = s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	}
	var k KID
	if len(h) != 32 {
		return KID{}, fmt.Errorf("keystore: key ID %q: want 32 hex digits or a UUID", s)
	}
	if _, err := hex.Decode(k[:], []byte(h)); err != nil {
		return KID{}, fmt.Errorf("keystore: key ID %q: want 32 hex digits or a UUID", s)
	}
	return k, nil
}
