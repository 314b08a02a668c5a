package cpix

import "encoding/binary"

// PSSHBox is an ISO/IEC 23001-7 (Common Encryption) section 8.1
// Protection System Specific Header box.
type PSSHBox struct {
	// Version is 0 (no KID list) or 1 (KIDs listed).
	Version  byte
	SystemID UUID
	// KIDs are the key IDs of a version 1 box; empty for version 0.
	KIDs []UUID
	// Data is the system-specific payload (empty for Clear Key).
	Data []byte
}

// maxPSSHKIDs bounds the KID list ParsePSSH accepts.
const maxPSSHKIDs = 1024

// PSSH returns the encoded 'pssh' box for systemID: version 1 listing
// kids when there are any, version 0 otherwise; data is the system's
// payload.
func PSSH(systemID UUID, kids []UUID, data []byte) []byte {
	b := PSSHBox{SystemID: systemID, KIDs: kids, Data: data}
	if len(kids) > 0 {
		b.Version = 1
	}
	return b.Bytes()
}

// ClearKeyPSSH returns the 'pssh' box of W3C Clear Key content: the W3C
// Common PSSH box (SystemID 1077efec-c0b2-4d02-ace3-3c1e52e2fb4b, version
// 1, the KIDs, no data) that EME's "cenc" initialization data format
// defines and that browsers' Clear Key CDMs read key IDs from. DASH
// signals it under the Clear Key ContentProtection (ClearKeySystemID).
func ClearKeyPSSH(kids ...UUID) []byte {
	common, _ := ParseUUID(CommonSystemID) // a valid constant
	return PSSHBox{Version: 1, SystemID: common, KIDs: kids}.Bytes()
}

// Bytes encodes the box. Version is written as given; KIDs are written
// only for version 1 or higher.
func (p PSSHBox) Bytes() []byte {
	n := 8 + 4 + 16 + 4 + len(p.Data)
	if p.Version > 0 {
		n += 4 + 16*len(p.KIDs)
	}
	b := make([]byte, 0, n)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = append(b, "pssh"...)
	b = append(b, p.Version, 0, 0, 0) // version, flags = 0
	b = append(b, p.SystemID[:]...)
	if p.Version > 0 {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p.KIDs)))
		for _, k := range p.KIDs {
			b = append(b, k[:]...)
		}
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.Data)))
	return append(b, p.Data...)
}

// ParsePSSH parses b as exactly one 'pssh' box of version 0 or 1 (32-bit
// size, which must equal len(b)).
func ParsePSSH(b []byte) (PSSHBox, error) {
	var p PSSHBox
	if len(b) < 32 {
		return p, malformed("pssh: %d bytes, a box needs at least 32", len(b))
	}
	if size := binary.BigEndian.Uint32(b); uint64(size) != uint64(len(b)) {
		return p, malformed("pssh: box size %d, have %d bytes", size, len(b))
	}
	if string(b[4:8]) != "pssh" {
		return p, malformed("pssh: box type %q, want \"pssh\"", b[4:8])
	}
	p.Version = b[8]
	if p.Version > 1 {
		return p, malformed("pssh: version %d, want 0 or 1", p.Version)
	}
	if flags := binary.BigEndian.Uint32(b[8:12]) & 0xffffff; flags != 0 {
		return p, malformed("pssh: flags %#x, want 0", flags)
	}
	copy(p.SystemID[:], b[12:28])
	rest := b[28:]
	if p.Version == 1 {
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if n > maxPSSHKIDs || uint64(len(rest)) < 16*uint64(n)+4 {
			return p, malformed("pssh: KID count %d does not fit the box", n)
		}
		p.KIDs = make([]UUID, n)
		for i := range p.KIDs {
			copy(p.KIDs[i][:], rest[16*i:])
		}
		rest = rest[16*n:]
	}
	if len(rest) < 4 {
		return p, malformed("pssh: no data size")
	}
	size := binary.BigEndian.Uint32(rest)
	rest = rest[4:]
	if uint64(size) != uint64(len(rest)) {
		return p, malformed("pssh: data size %d, %d bytes left", size, len(rest))
	}
	if size > 0 {
		p.Data = append([]byte(nil), rest...)
	}
	return p, nil
}
