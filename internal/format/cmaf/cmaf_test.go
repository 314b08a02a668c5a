package cmaf

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/mp4"

	"onair/internal/media"
)

var update = flag.Bool("update", false, "rewrite golden files")

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Parameter sets from x264 (High, level 1.3, 320x180) and x265 (Main,
// 320x180) encodes of testsrc2.
const (
	h264SPS = "6764000dacb40a0cfcf80880000003008000001e078a1550"
	h264PPS = "68ef0fcb"
	h265VPS = "40010c01ffff01600000030090000003000003003c959809"
	h265SPS = "42010101600000030090000003000003003ca00a080b9f796566924caf016808000003000800000300f040"
	h265PPS = "4401c172b46240"
)

func ascBytes(t testing.TB, asc aac.AudioSpecificConfig) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := asc.Encode(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func h264Track(t testing.TB) media.Track {
	return media.Track{Kind: media.KindVideo, Codec: media.CodecH264, SPS: unhex(t, h264SPS), PPS: unhex(t, h264PPS)}
}

func TestDescribe(t *testing.T) {
	heaac := ascBytes(t, aac.AudioSpecificConfig{ObjectType: aac.HEAACv1, ChannelConfiguration: 2, SamplingFrequency: 24000, ExtensionFrequency: 48000, SBRPresentFlag: true})
	tests := []struct {
		name    string
		track   media.Track
		want    TrackInfo
		wantErr error
	}{
		{
			name:  "h264 high 1.3",
			track: h264Track(t),
			want:  TrackInfo{Kind: media.KindVideo, Codecs: "avc1.64000D", Timescale: 90000, Width: 320, Height: 180},
		},
		{
			name:  "h265 main",
			track: media.Track{Kind: media.KindVideo, Codec: media.CodecH265, VPS: unhex(t, h265VPS), SPS: unhex(t, h265SPS), PPS: unhex(t, h265PPS)},
			want:  TrackInfo{Kind: media.KindVideo, Codecs: "hvc1.1.6.L60.90", Timescale: 90000, Width: 320, Height: 180},
		},
		{
			name:  "aac-lc 48k stereo",
			track: media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, AudioConfig: []byte{0x11, 0x90}},
			want: TrackInfo{Kind: media.KindAudio, Codecs: "mp4a.40.2", Timescale: 48000, SampleRate: 48000, Channels: 2,
				FrameDuration: 1024, AudioObjectType: 2},
		},
		{
			name:  "aac-lc from rate and channels",
			track: media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, SampleRate: 44100, Channels: 1},
			want: TrackInfo{Kind: media.KindAudio, Codecs: "mp4a.40.2", Timescale: 44100, SampleRate: 44100, Channels: 1,
				FrameDuration: 1024, AudioObjectType: 2},
		},
		{
			name:  "he-aac explicit: output rate and doubled frame",
			track: media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, AudioConfig: heaac},
			want: TrackInfo{Kind: media.KindAudio, Codecs: "mp4a.40.5", Timescale: 48000, SampleRate: 48000, Channels: 2,
				FrameDuration: 2048, AudioObjectType: 5},
		},
		{name: "vp9", track: media.Track{Kind: media.KindVideo, Codec: "vp9"}, wantErr: ErrUnsupported},
		{name: "h264 without sps", track: media.Track{Kind: media.KindVideo, Codec: media.CodecH264}, wantErr: errAny},
		{name: "aac garbage config", track: media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, AudioConfig: []byte{0xff}}, wantErr: errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Describe(tc.track)
			if tc.wantErr != nil {
				if err == nil || (tc.wantErr != errAny && !errors.Is(err, tc.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestInit(t *testing.T) {
	tests := []struct {
		name      string
		track     media.Track
		entry     string
		timescale uint32
	}{
		{"h264", h264Track(t), "avc1", 90000},
		{"h265", media.Track{Kind: media.KindVideo, Codec: media.CodecH265, VPS: unhex(t, h265VPS), SPS: unhex(t, h265SPS), PPS: unhex(t, h265PPS)}, "hvc1", 90000},
		{"aac", media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, AudioConfig: []byte{0x11, 0x90}}, "mp4a", 48000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, _, err := Init(tc.track)
			if err != nil {
				t.Fatal(err)
			}
			f, err := mp4.DecodeFile(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if f.Init == nil || len(f.Init.Moov.Traks) != 1 {
				t.Fatalf("want one track in the init")
			}
			trak := f.Init.Moov.Trak
			if got := trak.Tkhd.TrackID; got != TrackID {
				t.Errorf("track ID %d, want %d", got, TrackID)
			}
			if got := trak.Mdia.Mdhd.Timescale; got != tc.timescale {
				t.Errorf("timescale %d, want %d", got, tc.timescale)
			}
			if got := trak.Mdia.Minf.Stbl.Stsd.Children[0].Type(); got != tc.entry {
				t.Errorf("sample entry %s, want %s", got, tc.entry)
			}
			if f.Init.Moov.Mvex == nil || f.Init.Moov.Mvex.Trex == nil {
				t.Errorf("no mvex/trex: not a fragmented init")
			}
			if tc.entry == "mp4a" {
				esds := trak.Mdia.Minf.Stbl.Stsd.Mp4a.Esds
				if got := esds.DecConfigDescriptor.DecSpecificInfo.DecConfig; !bytes.Equal(got, tc.track.AudioConfig) {
					t.Errorf("esds config %x, want %x", got, tc.track.AudioConfig)
				}
			}
		})
	}
}

func TestFragmentRoundTrip(t *testing.T) {
	samples := []Sample{
		{Duration: 3000, CompositionOffset: 6000, Sync: true, Data: AppendNALUs(nil, [][]byte{{0x65, 1, 2, 3}})},
		{Duration: 3000, CompositionOffset: -3000, Data: AppendNALUs(nil, [][]byte{{0x41, 4}})},
		{Duration: 3001, CompositionOffset: 0, Data: AppendNALUs(nil, [][]byte{{0x41, 5}, {0x06, 6}})},
	}
	b, err := Fragment(7, 180000, samples)
	if err != nil {
		t.Fatal(err)
	}
	infos, err := ParseFragments(append(Styp(), b...))
	if err != nil {
		t.Fatal(err)
	}
	want := FragmentInfo{Offset: len(Styp()), SequenceNumber: 7, TrackID: 1, BaseMediaDecodeTime: 180000, SampleCount: 3, Duration: 9001, FirstSync: true}
	if len(infos) != 1 || infos[0] != want {
		t.Fatalf("got %+v, want [%+v]", infos, want)
	}

	// mp4ff reads the same samples back.
	f, err := mp4.DecodeFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	trex := &mp4.TrexBox{TrackID: 1}
	full, err := f.Segments[0].Fragments[0].GetFullSamples(trex)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != len(samples) {
		t.Fatalf("%d samples back, want %d", len(full), len(samples))
	}
	dt := uint64(180000)
	for i, s := range full {
		in := samples[i]
		if s.DecodeTime != dt || s.Dur != in.Duration || s.CompositionTimeOffset != in.CompositionOffset ||
			s.IsSync() != in.Sync || !bytes.Equal(s.Data, in.Data) {
			t.Errorf("sample %d: got dt=%d dur=%d cto=%d sync=%v, want dt=%d %+v", i, s.DecodeTime, s.Dur, s.CompositionTimeOffset, s.IsSync(), dt, in)
		}
		dt += uint64(in.Duration)
	}
	if _, err := Fragment(1, 0, nil); !errors.Is(err, ErrEmptyFragment) {
		t.Errorf("empty fragment: err = %v", err)
	}
}

func TestStyp(t *testing.T) {
	boxes, err := Boxes(Styp())
	if err != nil || len(boxes) != 1 || boxes[0].Type != "styp" {
		t.Fatalf("boxes %+v, err %v", boxes, err)
	}
	if !bytes.Contains(Styp(), []byte("msdh")) || !bytes.Contains(Styp(), []byte("cmfs")) {
		t.Errorf("styp %x lacks msdh/cmfs brands", Styp())
	}
}

// TestGoldenDump keeps a small box dump of an init and a chunk, so a
// change in the wire format shows up in review. Run with -update to
// rewrite it.
func TestGoldenDump(t *testing.T) {
	init, _, err := Init(h264Track(t))
	if err != nil {
		t.Fatal(err)
	}
	frag, err := Fragment(1, 90000, []Sample{
		{Duration: 3000, Sync: true, Data: AppendNALUs(nil, [][]byte{{0x65, 0x88}})},
		{Duration: 3000, Data: AppendNALUs(nil, [][]byte{{0x41, 0x9a}})},
	})
	if err != nil {
		t.Fatal(err)
	}
	file := append(append(init, Styp()...), frag...)
	f, err := mp4.DecodeFile(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var dump strings.Builder
	if err := f.Info(&dump, "all:1", "", "  "); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "h264_init_chunk.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(dump.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if dump.String() != string(want) {
		t.Errorf("box dump differs from %s (run with -update if intended):\n%s", golden, dump.String())
	}
}
