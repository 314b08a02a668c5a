package cmaf

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by parse errors.
var ErrMalformed = errors.New("malformed mp4")

// Box is one box found by Boxes.
type Box struct {
	Type   string
	Offset int // of the box header in the input
	Size   int // whole box, header included
}

// Boxes lists the top-level boxes of b (ISO/IEC 14496-12 4.2) in order.
func Boxes(b []byte) ([]Box, error) {
	var out []Box
	for off := 0; off < len(b); {
		typ, _, size, err := boxHeader(b[off:])
		if err != nil {
			return out, fmt.Errorf("box at %d: %w", off, err)
		}
		out = append(out, Box{Type: typ, Offset: off, Size: size})
		off += size
	}
	return out, nil
}

// FragmentInfo is the timing of one track fragment (traf) of a moof.
// Durations and times are in the track timescale.
type FragmentInfo struct {
	Offset              int // byte offset of the moof
	SequenceNumber      uint32
	TrackID             uint32
	BaseMediaDecodeTime uint64 // tfdt
	SampleCount         int
	// Duration is the sum of the sample durations, from the truns or the
	// tfhd default (0 when neither says: the trex default is in the init).
	Duration uint64
	// FirstSync reports whether the first sample is a sync sample
	// (sample_is_non_sync_sample = 0) according to the trun or tfhd flags.
	FirstSync bool
}

// ParseFragments returns the timing of every track fragment in b, a
// sequence of top-level boxes such as a segment (styp, moof, mdat, ...) or
// a whole fMP4 file. For CMAF there is one entry per moof. Boxes other
// than moof are skipped.
func ParseFragments(b []byte) ([]FragmentInfo, error) {
	var out []FragmentInfo
	for off := 0; off < len(b); {
		typ, hdr, size, err := boxHeader(b[off:])
		if err != nil {
			return out, fmt.Errorf("box at %d: %w", off, err)
		}
		if typ == "moof" {
			frags, err := parseMoof(b[off+hdr : off+size])
			if err != nil {
				return out, fmt.Errorf("moof at %d: %w", off, err)
			}
			for i := range frags {
				frags[i].Offset = off
			}
			out = append(out, frags...)
		}
		off += size
	}
	return out, nil
}

// boxHeader decodes the header at the start of b and returns the type, the
// header length and the whole box size, checked against len(b).
func boxHeader(b []byte) (typ string, hdr, size int, err error) {
	if len(b) < 8 {
		return "", 0, 0, fmt.Errorf("%w: truncated box header", ErrMalformed)
	}
	size64 := uint64(binary.BigEndian.Uint32(b))
	typ = string(b[4:8])
	hdr = 8
	switch size64 {
	case 0: // to the end of the input
		size64 = uint64(len(b))
	case 1:
		if len(b) < 16 {
			return "", 0, 0, fmt.Errorf("%w: truncated large box header", ErrMalformed)
		}
		size64 = binary.BigEndian.Uint64(b[8:])
		hdr = 16
	}
	if size64 < uint64(hdr) || size64 > uint64(len(b)) {
		return "", 0, 0, fmt.Errorf("%w: %q box size %d outside [%d, %d]", ErrMalformed, typ, size64, hdr, len(b))
	}
	return typ, hdr, int(size64), nil
}

func parseMoof(b []byte) ([]FragmentInfo, error) {
	var seq uint32
	var out []FragmentInfo
	for off := 0; off < len(b); {
		typ, hdr, size, err := boxHeader(b[off:])
		if err != nil {
			return nil, err
		}
		body := b[off+hdr : off+size]
		switch typ {
		case "mfhd":
			if len(body) < 8 {
				return nil, fmt.Errorf("%w: short mfhd", ErrMalformed)
			}
			seq = binary.BigEndian.Uint32(body[4:])
		case "traf":
			fi, err := parseTraf(body)
			if err != nil {
				return nil, fmt.Errorf("traf: %w", err)
			}
			out = append(out, fi)
		}
		off += size
	}
	for i := range out {
		out[i].SequenceNumber = seq
	}
	return out, nil
}

// tfhd and trun flags (ISO/IEC 14496-12 8.8.7, 8.8.8).
const (
	tfhdBaseDataOffset      = 0x01
	tfhdSampleDescIndex     = 0x02
	tfhdDefaultDuration     = 0x08
	tfhdDefaultSize         = 0x10
	tfhdDefaultFlags        = 0x20
	trunDataOffset          = 0x01
	trunFirstSampleFlags    = 0x04
	trunSampleDuration      = 0x100
	trunSampleSize          = 0x200
	trunSampleFlags         = 0x400
	trunSampleCompositionTO = 0x800
	sampleIsNonSync         = 0x10000
)

func parseTraf(b []byte) (FragmentInfo, error) {
	var fi FragmentInfo
	var defDur, defFlags uint32
	var hasDefFlags, haveTfhd, haveFirst bool
	var firstFlags uint32
	for off := 0; off < len(b); {
		typ, hdr, size, err := boxHeader(b[off:])
		if err != nil {
			return fi, err
		}
		body := b[off+hdr : off+size]
		switch typ {
		case "tfhd":
			r := reader{b: body}
			flags := r.u32() & 0xffffff
			fi.TrackID = r.u32()
			if flags&tfhdBaseDataOffset != 0 {
				r.skip(8)
			}
			if flags&tfhdSampleDescIndex != 0 {
				r.skip(4)
			}
			if flags&tfhdDefaultDuration != 0 {
				defDur = r.u32()
			}
			if flags&tfhdDefaultSize != 0 {
				r.skip(4)
			}
			if flags&tfhdDefaultFlags != 0 {
				defFlags = r.u32()
				hasDefFlags = true
			}
			if r.err {
				return fi, fmt.Errorf("%w: short tfhd", ErrMalformed)
			}
			haveTfhd = true
		case "tfdt":
			r := reader{b: body}
			vf := r.u32()
			if vf>>24 == 1 {
				fi.BaseMediaDecodeTime = r.u64()
			} else {
				fi.BaseMediaDecodeTime = uint64(r.u32())
			}
			if r.err {
				return fi, fmt.Errorf("%w: short tfdt", ErrMalformed)
			}
		case "trun":
			if !haveTfhd {
				return fi, fmt.Errorf("%w: trun before tfhd", ErrMalformed)
			}
			n, dur, ff, hasFF, err := parseTrun(body, defDur, defFlags, hasDefFlags)
			if err != nil {
				return fi, err
			}
			if !haveFirst && n > 0 {
				firstFlags, haveFirst = ff, hasFF
			}
			fi.SampleCount += n
			fi.Duration += dur
		}
		off += size
	}
	if !haveTfhd {
		return fi, fmt.Errorf("%w: traf without tfhd", ErrMalformed)
	}
	fi.FirstSync = haveFirst && firstFlags&sampleIsNonSync == 0
	return fi, nil
}

// parseTrun returns the sample count, total duration and the first
// sample's flags (hasFlags false when nothing signals them).
func parseTrun(b []byte, defDur, defFlags uint32, hasDefFlags bool) (n int, dur uint64, first uint32, hasFirst bool, err error) {
	r := reader{b: b}
	flags := r.u32() & 0xffffff
	count := r.u32()
	if flags&trunDataOffset != 0 {
		r.skip(4)
	}
	if flags&trunFirstSampleFlags != 0 {
		first, hasFirst = r.u32(), true
	}
	if r.err {
		return 0, 0, 0, false, fmt.Errorf("%w: short trun", ErrMalformed)
	}
	rec := 0
	for _, f := range []uint32{trunSampleDuration, trunSampleSize, trunSampleFlags, trunSampleCompositionTO} {
		if flags&f != 0 {
			rec += 4
		}
	}
	if rec == 0 {
		// No per-sample fields: every sample takes the defaults.
		if !hasFirst && hasDefFlags {
			first, hasFirst = defFlags, true
		}
		return int(count), uint64(count) * uint64(defDur), first, hasFirst && count > 0, nil
	}
	if uint64(count)*uint64(rec) > uint64(len(r.b)-r.off) {
		return 0, 0, 0, false, fmt.Errorf("%w: trun of %d samples in %d bytes", ErrMalformed, count, len(r.b)-r.off)
	}
	for i := uint32(0); i < count; i++ {
		d := defDur
		if flags&trunSampleDuration != 0 {
			d = r.u32()
		}
		if flags&trunSampleSize != 0 {
			r.skip(4)
		}
		if flags&trunSampleFlags != 0 {
			sf := r.u32()
			if i == 0 && !hasFirst {
				first, hasFirst = sf, true
			}
		}
		if flags&trunSampleCompositionTO != 0 {
			r.skip(4)
		}
		dur += uint64(d)
	}
	if !hasFirst && hasDefFlags {
		first, hasFirst = defFlags, true
	}
	return int(count), dur, first, hasFirst && count > 0, nil
}

// reader reads big-endian fields and remembers running out of input.
type reader struct {
	b   []byte
	off int
	err bool
}

func (r *reader) need(n int) bool {
	if r.err || len(r.b)-r.off < n {
		r.err = true
		return false
	}
	return true
}

func (r *reader) u32() uint32 {
	if !r.need(4) {
		return 0
	}
	v := binary.BigEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *reader) u64() uint64 {
	if !r.need(8) {
		return 0
	}
	v := binary.BigEndian.Uint64(r.b[r.off:])
	r.off += 8
	return v
}

func (r *reader) skip(n int) {
	if r.need(n) {
		r.off += n
	}
}
