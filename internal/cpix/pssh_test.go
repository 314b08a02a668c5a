package cpix

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"
)

func TestClearKeyPSSHParsesWithMP4ff(t *testing.T) {
	kids := []UUID{mustUUID(t, kidVideo), mustUUID(t, kidAudio)}
	b := ClearKeyPSSH(kids...)
	boxes, err := mp4.PsshBoxesFromBytes(b)
	if err != nil {
		t.Fatalf("mp4ff: %v", err)
	}
	if len(boxes) != 1 {
		t.Fatalf("mp4ff found %d boxes", len(boxes))
	}
	p := boxes[0]
	if p.Version != 1 || p.Flags != 0 || p.SystemID.String() != CommonSystemID || len(p.Data) != 0 {
		t.Fatalf("box version %d flags %d system %s data %x", p.Version, p.Flags, p.SystemID, p.Data)
	}
	if len(p.KIDs) != 2 || p.KIDs[0].String() != kidVideo || p.KIDs[1].String() != kidAudio {
		t.Fatalf("KIDs %v", p.KIDs)
	}
	if int(p.Size()) != len(b) {
		t.Errorf("size %d, encoded %d", p.Size(), len(b))
	}
	// And mp4ff's own encoding of the same box is byte-identical.
	var w bytes.Buffer
	if err := p.Encode(&w); err != nil || !bytes.Equal(w.Bytes(), b) {
		t.Errorf("mp4ff re-encodes as %x (%v), we wrote %x", w.Bytes(), err, b)
	}
}

func TestPSSHVersion0WithData(t *testing.T) {
	sys := mustUUID(t, WidevineSystemID)
	b := PSSH(sys, nil, []byte{0x12, 0x10, 1, 2})
	boxes, err := mp4.PsshBoxesFromBytes(b)
	if err != nil || boxes[0].Version != 0 || !bytes.Equal(boxes[0].Data, []byte{0x12, 0x10, 1, 2}) ||
		boxes[0].SystemID.String() != WidevineSystemID {
		t.Fatalf("mp4ff: %+v, %v", boxes, err)
	}
	p, err := ParsePSSH(b)
	if err != nil || p.Version != 0 || p.SystemID != sys || len(p.KIDs) != 0 || len(p.Data) != 4 {
		t.Fatalf("ParsePSSH = %+v, %v", p, err)
	}
}

// psshErrorCases are boxes ParsePSSH refuses (hex); want is in the error.
var psshErrorCases = []struct{ name, hex, want string }{
	{"short", "00000020707373680100", "a box needs at least 32"},
	{"size mismatch", "00000021" + "70737368" + "00000000" + strings.Repeat("00", 16) + "00000000", "box size 33, have 32"},
	{"not pssh", "00000020" + "7473656e" + "00000000" + strings.Repeat("00", 16) + "00000000", `box type "tsen"`},
	{"version 2", "00000020" + "70737368" + "02000000" + strings.Repeat("00", 16) + "00000000", "version 2"},
	{"flags", "00000020" + "70737368" + "00000001" + strings.Repeat("00", 16) + "00000000", "flags 0x1"},
	{"kid count too big", "00000024" + "70737368" + "01000000" + strings.Repeat("00", 16) + "00000001" + "00000000", "KID count 1 does not fit"},
	{"data size too big", "00000020" + "70737368" + "00000000" + strings.Repeat("00", 16) + "00000001", "data size 1, 0 bytes left"},
	{"trailing bytes", "00000021" + "70737368" + "00000000" + strings.Repeat("00", 16) + "00000000" + "ff", "data size 0, 1 bytes left"},
}

func TestParsePSSHErrors(t *testing.T) {
	for _, tc := range psshErrorCases {
		b, err := hex.DecodeString(tc.hex)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParsePSSH(b)
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ParsePSSH = %v, want ErrMalformed with %q", tc.name, err, tc.want)
		}
	}
}

func FuzzParsePSSH(f *testing.F) {
	f.Add(ClearKeyPSSH(UUID{1}, UUID{2}))
	f.Add(PSSH(UUID{3}, nil, []byte("data")))
	for _, tc := range psshErrorCases {
		b, _ := hex.DecodeString(tc.hex)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePSSH(b)
		if err != nil {
			return
		}
		if got := p.Bytes(); !bytes.Equal(got, b) {
			t.Fatalf("ParsePSSH(%x) re-encodes as %x", b, got)
		}
		if _, err := mp4.PsshBoxesFromBytes(b); err != nil {
			t.Fatalf("we accept %x, mp4ff refuses: %v", b, err)
		}
	})
}
