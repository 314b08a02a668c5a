package detect

import (
	"encoding/binary"
	"errors"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// avcConfig returns an AVCDecoderConfigurationRecord (ISO/IEC 14496-15
// 5.3.3.1) with one SPS and one PPS and 4-byte NAL unit lengths.
func avcConfig(sps, pps []byte) ([]byte, error) {
	if len(sps) < 4 || len(pps) == 0 || len(sps) > 0xFFFF || len(pps) > 0xFFFF {
		return nil, errors.New("avcC: bad parameter sets")
	}
	b := []byte{1, sps[1], sps[2], sps[3], 0xFC | 3, 0xE0 | 1}
	b = binary.BigEndian.AppendUint16(b, uint16(len(sps)))
	b = append(b, sps...)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(pps)))
	return append(b, pps...), nil
}

// hevcConfig returns an HEVCDecoderConfigurationRecord (ISO/IEC 14496-15
// 8.3.3.1) with the VPS, SPS and PPS and 4-byte NAL unit lengths. The
// profile fields are copied from the SPS's profile_tier_level.
func hevcConfig(vps, sps, pps []byte) ([]byte, error) {
	if len(vps) < 2 || len(sps) < 2 || len(pps) < 2 {
		return nil, errors.New("hvcC: bad parameter sets")
	}
	for _, n := range [][]byte{vps, sps, pps} {
		if len(n) > 0xFFFF {
			return nil, errors.New("hvcC: parameter set too large")
		}
	}
	b := make([]byte, 23)
	b[0] = 1
	// general_profile_space .. general_level_idc: 12 bytes that follow
	// the SPS's first byte (vps id, max sub layers, nesting flag).
	if rbsp := h264.EmulationPreventionRemove(sps[2:]); len(rbsp) >= 13 {
		copy(b[1:13], rbsp[1:13])
	}
	b[13], b[14] = 0xF0, 0x00 // min_spatial_segmentation_idc 0
	b[15] = 0xFC              // parallelismType 0
	b[16] = 0xFC | 1          // chroma_format_idc 4:2:0 (informative)
	b[17] = 0xF8              // bit_depth_luma_minus8
	b[18] = 0xF8              // bit_depth_chroma_minus8
	// b[19:21] avgFrameRate 0
	b[21] = 1<<3 | 1<<2 | 3 // one temporal layer, nested, 4-byte lengths
	b[22] = 3               // arrays
	for i, n := range [][]byte{vps, sps, pps} {
		b = append(b, 1<<7|byte(h265VPS+i))
		b = binary.BigEndian.AppendUint16(b, 1)
		b = binary.BigEndian.AppendUint16(b, uint16(len(n)))
		b = append(b, n...)
	}
	return b, nil
}
