package ingest

import (
	"fmt"
	"math"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"onair/internal/media"
)

// naluRole is what a NAL unit means to ingest.
type naluRole int

const (
	naluOther naluRole = iota
	naluVPS
	naluSPS
	naluPPS
	naluKey // IDR (H.264) or IRAP (H.265) slice
	naluAUD // access unit delimiter: dropped
)

// classifyNALU returns the role of a non-empty NAL unit of codec c.
func classifyNALU(c media.Codec, nalu []byte) naluRole {
	switch c {
	case media.CodecH264:
		switch h264.NALUType(nalu[0] & 0x1f) {
		case h264.NALUTypeSPS:
			return naluSPS
		case h264.NALUTypePPS:
			return naluPPS
		case h264.NALUTypeIDR:
			return naluKey
		case h264.NALUTypeAccessUnitDelimiter:
			return naluAUD
		}
	case media.CodecH265:
		// ITU-T H.265 7.4.2.2: IRAP pictures are nal_unit_type 16..23
		// (BLA, IDR, CRA; 22 and 23 reserved IRAP).
		switch t := h265.NALUType((nalu[0] >> 1) & 0x3f); {
		case t == h265.NALUType_VPS_NUT:
			return naluVPS
		case t == h265.NALUType_SPS_NUT:
			return naluSPS
		case t == h265.NALUType_PPS_NUT:
			return naluPPS
		case t == h265.NALUType_AUD_NUT:
			return naluAUD
		case t >= h265.NALUType_BLA_W_LP && t <= h265.NALUType_RSV_IRAP_VCL23:
			return naluKey
		}
	}
	return naluOther
}

// videoTrack builds the track for codec c from its parameter sets. fpsHint
// (e.g. RTMP onMetaData framerate) is used when the SPS carries no timing.
func videoTrack(c media.Codec, vps, sps, pps []byte, fpsHint float64) (*media.Track, error) {
	t := &media.Track{Kind: media.KindVideo, Codec: c, SPS: clone(sps), PPS: clone(pps)}
	switch c {
	case media.CodecH264:
		var s h264.SPS
		if err := s.Unmarshal(sps); err != nil {
			return nil, fmt.Errorf("parse h264 sps: %w", err)
		}
		t.Width, t.Height, t.FPS = s.Width(), s.Height(), s.FPS()
	case media.CodecH265:
		var s h265.SPS
		if err := s.Unmarshal(sps); err != nil {
			return nil, fmt.Errorf("parse h265 sps: %w", err)
		}
		t.VPS = clone(vps)
		t.Width, t.Height, t.FPS = s.Width(), s.Height(), s.FPS()
	default:
		return nil, fmt.Errorf("video codec %q has no parameter sets", c)
	}
	if t.Width <= 0 || t.Height <= 0 {
		return nil, fmt.Errorf("sps gives an invalid picture size %dx%d", t.Width, t.Height)
	}
	if !saneFPS(t.FPS) {
		t.FPS = 0
	}
	if t.FPS == 0 && saneFPS(fpsHint) {
		t.FPS = fpsHint
	}
	return t, nil
}

// saneFPS reports whether fps is a usable frame rate (a malformed SPS can
// give 0, +Inf or NaN).
func saneFPS(fps float64) bool {
	return fps > 0 && fps <= 1000 && !math.IsInf(fps, 0) && !math.IsNaN(fps)
}

// AudioTrack returns the track for an AAC stream with AudioSpecificConfig
// asc (ISO/IEC 14496-3 1.6.2.1).
func AudioTrack(asc mpeg4audio.AudioSpecificConfig) (*media.Track, error) {
	if asc.SampleRate <= 0 {
		return nil, fmt.Errorf("aac config has no sample rate")
	}
	raw, err := asc.Marshal()
	if err != nil {
		return nil, fmt.Errorf("marshal aac config: %w", err)
	}
	ch := int(asc.ChannelConfig)
	switch {
	case ch == 7:
		ch = 8
	case ch == 0 || ch > 7:
		// Layout in a program config element: fall back to the count
		// the parser derived, if any.
		ch = asc.ChannelCount //nolint:staticcheck // only source for PCE layouts
	}
	// SampleRate is the core AAC rate (HE-AAC's SBR rate is twice it):
	// every frame is 1024 samples at this rate.
	return &media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, SampleRate: asc.SampleRate, Channels: ch, AudioConfig: raw}, nil
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
