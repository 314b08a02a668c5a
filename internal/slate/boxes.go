package slate

import (
	"encoding/binary"
	"fmt"
)

// box is one ISO BMFF box inside a buffer: [start, end) with its payload
// from start+8 (64-bit sizes and size 0 are not used by our inputs and
// are refused).
type box struct {
	typ        string
	start, end int
}

// boxes lists the boxes in data[from:to].
func boxes(data []byte, from, to int) ([]box, error) {
	var out []box
	for at := from; at < to; {
		if to-at < 8 {
			return nil, fmt.Errorf("truncated box header at %d", at)
		}
		size := int(binary.BigEndian.Uint32(data[at:]))
		if size < 8 || size > to-at {
			return nil, fmt.Errorf("box at %d: size %d does not fit", at, size)
		}
		out = append(out, box{typ: string(data[at+4 : at+8]), start: at, end: at + size})
		at += size
	}
	return out, nil
}

// child returns the first box of type typ inside parent's payload, after
// skip bytes of the payload.
func child(data []byte, parent box, skip int, typ string) (box, error) {
	list, err := boxes(data, parent.start+8+skip, parent.end)
	if err != nil {
		return box{}, fmt.Errorf("%s: %w", parent.typ, err)
	}
	for _, b := range list {
		if b.typ == typ {
			return b, nil
		}
	}
	return box{}, fmt.Errorf("%s has no %s", parent.typ, typ)
}

// path follows nested box types from parent.
func path(data []byte, parent box, types ...string) (box, error) {
	b := parent
	for _, typ := range types {
		var err error
		if b, err = child(data, b, 0, typ); err != nil {
			return box{}, err
		}
	}
	return b, nil
}

// split cuts a one-fragment CMAF file into init and media and finds the
// fields Segment patches.
func split(data []byte) (*Track, error) {
	top, err := boxes(data, 0, len(data))
	if err != nil {
		return nil, err
	}
	var moov, moof, mdat *box
	for i := range top {
		b := &top[i]
		switch b.typ {
		case "moov":
			moov = b
		case "moof":
			if moof != nil {
				return nil, fmt.Errorf("%w: second moof", errLayout)
			}
			moof = b
		case "mdat":
			if moof != nil && mdat == nil {
				mdat = b
			}
		}
	}
	if moov == nil || moof == nil || mdat == nil || mdat.start != moof.end || moov.end > moof.start {
		return nil, errLayout
	}
	ts, err := timescale(data, *moov)
	if err != nil {
		return nil, err
	}
	mfhd, err := child(data, *moof, 0, "mfhd")
	if err != nil {
		return nil, err
	}
	tfdt, err := path(data, *moof, "traf", "tfdt")
	if err != nil {
		return nil, err
	}
	if tfdt.end-tfdt.start < 20 || data[tfdt.start+8] != 1 {
		return nil, fmt.Errorf("tfdt is not version 1 (64-bit)")
	}
	if mfhd.end-mfhd.start < 16 {
		return nil, fmt.Errorf("short mfhd")
	}
	return &Track{
		Init:      append([]byte(nil), data[:moov.end]...),
		Timescale: ts,
		media:     append([]byte(nil), data[moof.start:mdat.end]...),
		tfdtOff:   tfdt.start + 12 - moof.start,
		seqOff:    mfhd.start + 12 - moof.start,
	}, nil
}

// timescale reads the media timescale of moov's first track.
func timescale(data []byte, moov box) (uint32, error) {
	mdhd, err := path(data, moov, "trak", "mdia", "mdhd")
	if err != nil {
		return 0, err
	}
	off := mdhd.start + 20 // header 8, version and flags 4, two 32-bit times
	if data[mdhd.start+8] == 1 {
		off = mdhd.start + 28 // two 64-bit times
	}
	if off+4 > mdhd.end {
		return 0, fmt.Errorf("short mdhd")
	}
	ts := binary.BigEndian.Uint32(data[off:])
	if ts == 0 {
		return 0, fmt.Errorf("mdhd timescale is 0")
	}
	return ts, nil
}

// InitTimescale returns the media timescale of the first track of a CMAF
// init segment: the sample rate of an AAC track, for instance.
func InitTimescale(init []byte) (uint32, error) {
	top, err := boxes(init, 0, len(init))
	if err != nil {
		return 0, fmt.Errorf("slate: init segment: %w", err)
	}
	for _, b := range top {
		if b.typ == "moov" {
			ts, err := timescale(init, b)
			if err != nil {
				return 0, fmt.Errorf("slate: init segment: %w", err)
			}
			return ts, nil
		}
	}
	return 0, fmt.Errorf("slate: init segment has no moov")
}
