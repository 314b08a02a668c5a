package ingest

import (
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"onair/internal/media"
)

// spsNoTiming is a 320x240 baseline SPS without VUI (no frame rate).
var spsNoTiming = mustHex("6742c00dda0507e4")

func TestVideoTrack(t *testing.T) {
	tests := []struct {
		name    string
		sps     []byte
		hint    float64
		w, h    int
		fps     float64
		wantErr bool
	}{
		{name: "timing in sps", sps: sps320, hint: 25, w: 320, h: 240, fps: 30},
		{name: "640x360 at 25", sps: sps640, w: 640, h: 360, fps: 25},
		{name: "no timing, metadata hint", sps: spsNoTiming, hint: 25, w: 320, h: 240, fps: 25},
		{name: "no timing, no hint", sps: spsNoTiming, w: 320, h: 240, fps: 0},
		{name: "garbage sps", sps: []byte{0x67, 0xff}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := videoTrack(media.CodecH264, nil, tt.sps, pps, tt.hint)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("track %+v from a bad sps", tr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tr.Width != tt.w || tr.Height != tt.h || tr.FPS != tt.fps || tr.Kind != media.KindVideo {
				t.Fatalf("track %dx%d %v fps, want %dx%d %v", tr.Width, tr.Height, tr.FPS, tt.w, tt.h, tt.fps)
			}
		})
	}
}

func TestAudioTrack(t *testing.T) {
	tests := []struct {
		asc      mpeg4audio.AudioSpecificConfig
		rate, ch int
	}{
		{mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 48000, ChannelConfig: 2}, 48000, 2},
		{mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 44100, ChannelConfig: 1}, 44100, 1},
		{mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 48000, ChannelConfig: 7}, 48000, 8},
	}
	for _, tt := range tests {
		tr, err := AudioTrack(tt.asc)
		if err != nil {
			t.Fatal(err)
		}
		var back mpeg4audio.AudioSpecificConfig
		if err := back.Unmarshal(tr.AudioConfig); err != nil || back.SampleRate != tt.rate {
			t.Fatalf("AudioConfig %x does not round-trip: %v", tr.AudioConfig, err)
		}
		if tr.Codec != media.CodecAAC || tr.SampleRate != tt.rate || tr.Channels != tt.ch {
			t.Fatalf("track %+v, want %d Hz %d ch", tr, tt.rate, tt.ch)
		}
	}
	if _, err := AudioTrack(mpeg4audio.AudioSpecificConfig{}); err == nil {
		t.Fatal("empty config accepted")
	}
}

func TestClassifyNALU(t *testing.T) {
	tests := []struct {
		codec media.Codec
		nalu  byte
		want  naluRole
	}{
		{media.CodecH264, 0x67, naluSPS},
		{media.CodecH264, 0x68, naluPPS},
		{media.CodecH264, 0x65, naluKey},
		{media.CodecH264, 0x41, naluOther},
		{media.CodecH264, 0x09, naluAUD},
		{media.CodecH265, 32 << 1, naluVPS},
		{media.CodecH265, 33 << 1, naluSPS},
		{media.CodecH265, 34 << 1, naluPPS},
		{media.CodecH265, 19 << 1, naluKey}, // IDR_W_RADL
		{media.CodecH265, 21 << 1, naluKey}, // CRA
		{media.CodecH265, 1 << 1, naluOther},
		{media.CodecH265, 35 << 1, naluAUD},
	}
	for _, tt := range tests {
		if got := classifyNALU(tt.codec, []byte{tt.nalu, 0}); got != tt.want {
			t.Errorf("classifyNALU(%s, %#x) = %d, want %d", tt.codec, tt.nalu, got, tt.want)
		}
	}
}
