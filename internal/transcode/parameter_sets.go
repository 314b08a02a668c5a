package transcode

import (
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"onair/internal/media"
)

// NAL unit types of parameter sets.
const (
	h264SPS = 7
	h264PPS = 8
	h265VPS = 32
	h265SPS = 33
	h265PPS = 34
)

func naluType(n []byte, hevc bool) int {
	if len(n) == 0 {
		return -1
	}
	if hevc {
		return int(n[0]>>1) & 0x3f
	}
	return int(n[0]) & 0x1f
}

// withParameterSets returns au with the track's parameter sets in front
// when au carries none (au itself is not modified).
func withParameterSets(au [][]byte, t *media.Track, hevc bool) [][]byte {
	sps := h264SPS
	if hevc {
		sps = h265SPS
	}
	for _, n := range au {
		if naluType(n, hevc) == sps {
			return au
		}
	}
	var ps [][]byte
	if hevc && len(t.VPS) > 0 {
		ps = append(ps, t.VPS)
	}
	if len(t.SPS) > 0 {
		ps = append(ps, t.SPS)
	}
	if len(t.PPS) > 0 {
		ps = append(ps, t.PPS)
	}
	if len(ps) == 0 {
		return au
	}
	return append(ps, au...)
}

// trackFromKeyframe builds a video Track from the parameter sets in a
// keyframe access unit.
func trackFromKeyframe(au [][]byte, hevc bool, fps float64) (media.Track, error) {
	t := media.Track{Kind: media.KindVideo, Codec: media.CodecH264, FPS: fps}
	if hevc {
		t.Codec = media.CodecH265
	}
	for _, n := range au {
		switch typ := naluType(n, hevc); {
		case hevc && typ == h265VPS:
			t.VPS = n
		case hevc && typ == h265SPS, !hevc && typ == h264SPS:
			t.SPS = n
		case hevc && typ == h265PPS, !hevc && typ == h264PPS:
			t.PPS = n
		}
	}
	if t.SPS == nil || t.PPS == nil || (hevc && t.VPS == nil) {
		return t, fmt.Errorf("keyframe without parameter sets")
	}
	if hevc {
		var sps h265.SPS
		if err := sps.Unmarshal(t.SPS); err != nil {
			return t, fmt.Errorf("parse H.265 SPS: %w", err)
		}
		t.Width, t.Height = sps.Width(), sps.Height()
	} else {
		var sps h264.SPS
		if err := sps.Unmarshal(t.SPS); err != nil {
			return t, fmt.Errorf("parse H.264 SPS: %w", err)
		}
		t.Width, t.Height = sps.Width(), sps.Height()
	}
	return t, nil
}
