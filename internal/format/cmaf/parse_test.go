package cmaf

import (
	"encoding/binary"
	"errors"
	"testing"
)

// box builds a box of type typ around the concatenated bodies.
func box(typ string, bodies ...[]byte) []byte {
	n := 8
	for _, b := range bodies {
		n += len(b)
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(n))
	out = append(out, typ...)
	for _, b := range bodies {
		out = append(out, b...)
	}
	return out
}

func u32s(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

// parseCases feed both TestParseFragments and the fuzz seeds.
var parseCases = []struct {
	name    string
	in      func() []byte
	want    []FragmentInfo
	wantErr bool
}{
	{
		name: "empty input",
		in:   func() []byte { return nil },
	},
	{
		name: "built chunk with styp",
		in: func() []byte {
			b, _ := Fragment(3, 1<<33, []Sample{{Duration: 1024, Sync: true, Data: []byte{1}}, {Duration: 1024, Sync: true, Data: []byte{2}}})
			return append(Styp(), b...)
		},
		want: []FragmentInfo{{Offset: 24, SequenceNumber: 3, TrackID: 1, BaseMediaDecodeTime: 1 << 33, SampleCount: 2, Duration: 2048, FirstSync: true}},
	},
	{
		name: "two chunks, second non-sync",
		in: func() []byte {
			a, _ := Fragment(1, 0, []Sample{{Duration: 3000, Sync: true, Data: []byte{1}}})
			b, _ := Fragment(2, 3000, []Sample{{Duration: 3000, Data: []byte{1}}, {Duration: 3003, Data: []byte{2, 3}}})
			return append(a, b...)
		},
		want: []FragmentInfo{
			{Offset: 0, SequenceNumber: 1, TrackID: 1, BaseMediaDecodeTime: 0, SampleCount: 1, Duration: 3000, FirstSync: true},
			{Offset: 109, SequenceNumber: 2, TrackID: 1, BaseMediaDecodeTime: 3000, SampleCount: 2, Duration: 6003, FirstSync: false},
		},
	},
	{
		name: "tfhd defaults only, tfdt v0",
		in: func() []byte {
			tfhd := box("tfhd", u32s(0x000028, 9, 512, 0x02000000)) // default duration + flags
			tfdt := box("tfdt", u32s(0, 77))
			trun := box("trun", u32s(0, 4))
			return box("moof", box("mfhd", u32s(0, 5)), box("traf", tfhd, tfdt, trun))
		},
		want: []FragmentInfo{{Offset: 0, SequenceNumber: 5, TrackID: 9, BaseMediaDecodeTime: 77, SampleCount: 4, Duration: 2048, FirstSync: true}},
	},
	{
		name: "size 0 box runs to the end",
		in: func() []byte {
			b, _ := Fragment(1, 0, []Sample{{Duration: 1, Sync: true, Data: []byte{1}}})
			b = append(b, 0, 0, 0, 0, 'f', 'r', 'e', 'e', 1, 2, 3)
			return b
		},
		want: []FragmentInfo{{SequenceNumber: 1, TrackID: 1, SampleCount: 1, Duration: 1, FirstSync: true}},
	},
	{name: "truncated header", in: func() []byte { return []byte{0, 0, 0} }, wantErr: true},
	{name: "size beyond input", in: func() []byte { return append(u32s(100), "moof"...) }, wantErr: true},
	{name: "size below header", in: func() []byte { return append(u32s(4), "moof"...) }, wantErr: true},
	{
		name:    "large size truncated",
		in:      func() []byte { return append(u32s(1), "moof"...) },
		wantErr: true,
	},
	{
		name: "trun claims more samples than bytes",
		in: func() []byte {
			tfhd := box("tfhd", u32s(0, 1))
			trun := box("trun", u32s(0x100, 1000), u32s(1, 2))
			return box("moof", box("traf", tfhd, trun))
		},
		wantErr: true,
	},
	{
		name: "trun before tfhd",
		in: func() []byte {
			return box("moof", box("traf", box("trun", u32s(0, 1))))
		},
		wantErr: true,
	},
	{
		name:    "short tfdt",
		in:      func() []byte { return box("moof", box("traf", box("tfhd", u32s(0, 1)), box("tfdt", u32s(1<<24, 1)))) },
		wantErr: true,
	},
	{
		name:    "traf without tfhd",
		in:      func() []byte { return box("moof", box("traf", box("tfdt", u32s(0, 1)))) },
		wantErr: true,
	},
}

func TestParseFragments(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFragments(tc.in())
			if tc.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("fragment %d: got %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// FuzzParseFragments checks that no input panics or loops, and that what
// parses is consistent with Boxes.
func FuzzParseFragments(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.in())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		infos, err := ParseFragments(b)
		boxes, berr := Boxes(b)
		if err == nil && berr != nil {
			t.Fatalf("ParseFragments ok but Boxes failed: %v", berr)
		}
		if err != nil {
			return
		}
		moofAt := map[int]bool{}
		for _, bx := range boxes {
			if bx.Type == "moof" {
				moofAt[bx.Offset] = true
			}
		}
		for _, fi := range infos {
			if !moofAt[fi.Offset] {
				t.Fatalf("fragment at %d is not at a moof (%+v)", fi.Offset, boxes)
			}
			if fi.SampleCount < 0 {
				t.Fatalf("negative sample count %d", fi.SampleCount)
			}
		}
	})
}
