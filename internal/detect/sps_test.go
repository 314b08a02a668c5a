package detect

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
)

// spsCases are SPS NAL units written by libx264 and libx265 (ffmpeg 5.1)
// with the options named. They feed TestLowDelaySPS and the fuzz corpus.
var spsCases = []struct {
	name        string
	hexSPS      string
	hevc        bool
	wantChanged bool
	wantErr     bool
}{
	{name: "x264 high bf2 320x240", hexSPS: "6764000dacd94141fb0110000003001000000303c0f1429960", wantChanged: true},
	{name: "x264 baseline bf0 1080p", hexSPS: "6742c028da01e0089f970110000003001000000303c0f1832a"},
	{name: "x264 bf3 cqm=jvt 1080p", hexSPS: "67640028acd940780227e5c044000003000400000300f03c60c658", wantChanged: true},
	{name: "x264 bf2 nal-hrd=cbr", hexSPS: "67640028acd940780227e5c044000003000400000300f1818003d090007a139b0c01e30632c0", wantChanged: true},
	{name: "x264 bf2 yuv444p", hexSPS: "67f40028919b280f0044fc4e0220000003002000000781e30632c0", wantChanged: true},
	{name: "x265 bf2 320x240", hexSPS: "42010101600000030090000003000003003ca00a080f16595912930bc05a020000030002000003003c10", hevc: true, wantChanged: true},
	{name: "x265 bf4 1080p", hexSPS: "420101016000000300900000030000030078a003c0801107cb965664a4c2f0168080000003008000000f04", hevc: true, wantChanged: true},
	{name: "h264 header only", hexSPS: "67", wantErr: true},
	{name: "h264 truncated", hexSPS: "6764000dacd941", wantErr: true},
	{name: "h265 truncated", hexSPS: "420101016000", hevc: true, wantErr: true},
	{name: "empty", hexSPS: "", wantErr: true},
}

func TestLowDelaySPS(t *testing.T) {
	for _, tt := range spsCases {
		t.Run(tt.name, func(t *testing.T) {
			in, err := hex.DecodeString(tt.hexSPS)
			if err != nil {
				t.Fatal(err)
			}
			out, changed, err := lowDelaySPS(in, tt.hevc)
			if (err != nil) != tt.wantErr || changed != tt.wantChanged {
				t.Fatalf("changed %v, err %v; want changed %v, error %v", changed, err, tt.wantChanged, tt.wantErr)
			}
			if !changed && !bytes.Equal(out, in) {
				t.Fatalf("unchanged SPS differs: %x", out)
			}
			if !tt.wantErr {
				checkLowDelay(t, in, out, tt.hevc)
			}
		})
	}
}

// checkLowDelay checks that out parses as an SPS equal to in except that
// no frame reordering is allowed.
func checkLowDelay(t *testing.T, in, out []byte, hevc bool) {
	t.Helper()
	if hevc {
		var a, b h265.SPS
		if a.Unmarshal(in) != nil {
			return
		}
		if err := b.Unmarshal(out); err != nil {
			t.Fatalf("rewritten SPS %x does not parse: %v", out, err)
		}
		for i := range a.MaxNumReorderPics {
			a.MaxNumReorderPics[i] = 0
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("rewritten SPS\n got %+v\nwant %+v", b, a)
		}
		return
	}
	var a, b h264.SPS
	if a.Unmarshal(in) != nil {
		return
	}
	if err := b.Unmarshal(out); err != nil {
		t.Fatalf("rewritten SPS %x does not parse: %v", out, err)
	}
	if a.VUI != nil && a.VUI.BitstreamRestriction != nil {
		a.VUI.BitstreamRestriction.MaxNumReorderFrames = 0
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("rewritten SPS\n got %+v\nwant %+v", b, a)
	}
}

func FuzzLowDelaySPS(f *testing.F) {
	for _, tt := range spsCases {
		in, _ := hex.DecodeString(tt.hexSPS)
		f.Add(in, tt.hevc)
	}
	f.Fuzz(func(t *testing.T, in []byte, hevc bool) {
		out, changed, err := lowDelaySPS(in, hevc)
		if err != nil || !changed {
			if !bytes.Equal(out, in) {
				t.Fatalf("unchanged output differs")
			}
			return
		}
		checkLowDelay(t, in, out, hevc)
		// Rewriting again finds nothing left to do.
		if _, again, err := lowDelaySPS(out, hevc); err != nil || again {
			t.Fatalf("second rewrite: changed %v, err %v", again, err)
		}
	})
}

func FuzzEmulationPrevention(f *testing.F) {
	for _, s := range []string{"", "000000", "00000300", "0000010000020003", "ff00"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, rbsp []byte) {
		ebsp := emulationPreventionAdd(rbsp)
		for i := 2; i < len(ebsp); i++ {
			if ebsp[i-2] == 0 && ebsp[i-1] == 0 && ebsp[i] <= 2 {
				t.Fatalf("start code prefix at %d in %x", i, ebsp)
			}
		}
		if back := h264.EmulationPreventionRemove(ebsp); !bytes.Equal(back, rbsp) && !(len(back) == 0 && len(rbsp) == 0) {
			t.Fatalf("round trip %x -> %x -> %x", rbsp, ebsp, back)
		}
	})
}
