package detect

import (
	"errors"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/bits"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// In keyframes-only sampling ffmpeg's decoder would hold each keyframe
// until as many later pictures as the SPS allows to be reordered had been
// decoded: with only keyframes fed, that is whole GOPs. lowDelaySPS
// rewrites the SPS to allow no reordering, which is true of a stream made
// of keyframes only, so each keyframe is output as soon as it is decoded.

// lowDelaySPS returns the SPS NAL unit (with its header, without start
// code) rewritten with max_num_reorder_frames (H.264, ITU-T H.264 E.1.1)
// or every sps_max_num_reorder_pics (H.265, ITU-T H.265 7.3.2.2) set to 0.
// changed is false, and out is sps, when there is nothing to rewrite.
func lowDelaySPS(sps []byte, hevc bool) (out []byte, changed bool, err error) {
	hdr := 1
	if hevc {
		hdr = 2
	}
	if len(sps) <= hdr {
		return sps, false, errors.New("sps: too short")
	}
	rbsp := h264.EmulationPreventionRemove(sps[hdr:])
	r := &bitReader{buf: rbsp}
	var edits []bitEdit
	if hevc {
		edits = h265ReorderFields(r)
	} else {
		edits = h264ReorderFields(r)
	}
	if r.err == nil && r.pos > lastOneBit(rbsp) {
		r.fail("no rbsp_stop_one_bit after the parsed fields")
	}
	if r.err != nil {
		return sps, false, fmt.Errorf("sps: %w", r.err)
	}
	if len(edits) == 0 {
		return sps, false, nil
	}
	body, err := splice(rbsp, edits)
	if err != nil {
		return sps, false, fmt.Errorf("sps: %w", err)
	}
	// Keep the original length (ue(0) is never longer than the field it
	// replaces): a reader that found enough bits before still does.
	for len(body) < len(rbsp) {
		body = append(body, 0)
	}
	out = append([]byte(nil), sps[:hdr]...)
	return append(out, emulationPreventionAdd(body)...), true, nil
}

// h264ReorderFields parses an H.264 SPS RBSP (7.3.2.1.1, VUI E.1.1) up to
// max_num_reorder_frames and returns an edit setting it to 0, or none
// when it is absent or already 0.
func h264ReorderFields(r *bitReader) []bitEdit {
	profile := r.u(8)
	r.u(16) // constraint flags, level_idc
	r.ue()  // seq_parameter_set_id
	switch profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		chroma := r.ue()
		if chroma == 3 {
			r.u(1) // separate_colour_plane_flag
		}
		r.ue()        // bit_depth_luma_minus8
		r.ue()        // bit_depth_chroma_minus8
		r.u(1)        // qpprime_y_zero_transform_bypass_flag
		if r.flag() { // seq_scaling_matrix_present_flag
			n := 8
			if chroma == 3 {
				n = 12
			}
			for i := range n {
				if r.flag() {
					size := 16
					if i >= 6 {
						size = 64
					}
					skipScalingList(r, size)
				}
			}
		}
	}
	r.ue() // log2_max_frame_num_minus4
	switch r.ue() {
	case 0:
		r.ue() // log2_max_pic_order_cnt_lsb_minus4
	case 1:
		r.u(1) // delta_pic_order_always_zero_flag
		r.se() // offset_for_non_ref_pic
		r.se() // offset_for_top_to_bottom_field
		n := r.ue()
		if n > 255 {
			r.fail("num_ref_frames_in_pic_order_cnt_cycle %d", n)
		}
		for range n {
			if r.err != nil {
				break
			}
			r.se()
		}
	}
	r.ue()         // max_num_ref_frames
	r.u(1)         // gaps_in_frame_num_value_allowed_flag
	r.ue()         // pic_width_in_mbs_minus1
	r.ue()         // pic_height_in_map_units_minus1
	if !r.flag() { // frame_mbs_only_flag
		r.u(1) // mb_adaptive_frame_field_flag
	}
	r.u(1)        // direct_8x8_inference_flag
	if r.flag() { // frame_cropping_flag
		r.ue()
		r.ue()
		r.ue()
		r.ue()
	}
	if !r.flag() || r.err != nil { // vui_parameters_present_flag
		return nil
	}
	if r.flag() { // aspect_ratio_info_present_flag
		if r.u(8) == 255 {
			r.u(32) // Extended_SAR
		}
	}
	if r.flag() { // overscan_info_present_flag
		r.u(1)
	}
	if r.flag() { // video_signal_type_present_flag
		r.u(4)
		if r.flag() { // colour_description_present_flag
			r.u(24)
		}
	}
	if r.flag() { // chroma_loc_info_present_flag
		r.ue()
		r.ue()
	}
	if r.flag() { // timing_info_present_flag
		r.u(32)
		r.u(32)
		r.u(1)
	}
	nal := r.flag()
	if nal {
		skipHRD(r)
	}
	vcl := r.flag()
	if vcl {
		skipHRD(r)
	}
	if nal || vcl {
		r.u(1) // low_delay_hrd_flag
	}
	r.u(1)                         // pic_struct_present_flag
	if !r.flag() || r.err != nil { // bitstream_restriction_flag
		return nil
	}
	r.u(1) // motion_vectors_over_pic_boundaries_flag
	r.ue() // max_bytes_per_pic_denom
	r.ue() // max_bits_per_mb_denom
	r.ue() // log2_max_mv_length_horizontal
	r.ue() // log2_max_mv_length_vertical
	start := r.pos
	reorder := r.ue() // max_num_reorder_frames
	end := r.pos
	r.ue() // max_dec_frame_buffering
	if reorder == 0 || r.err != nil {
		return nil
	}
	return []bitEdit{{start: start, end: end}}
}

func skipScalingList(r *bitReader, size int) {
	last, next := int64(8), int64(8)
	for range size {
		if r.err != nil {
			return
		}
		if next != 0 {
			next = (last + int64(r.se()) + 256) % 256
		}
		if next != 0 {
			last = next
		}
	}
}

func skipHRD(r *bitReader) {
	n := r.ue() // cpb_cnt_minus1
	if n > 31 {
		r.fail("cpb_cnt_minus1 %d", n)
		return
	}
	r.u(8) // bit_rate_scale, cpb_size_scale
	for range n + 1 {
		r.ue()
		r.ue()
		r.u(1)
	}
	r.u(20)
}

// h265ReorderFields parses an H.265 SPS RBSP (7.3.2.2) up to its
// sub-layer ordering info and returns edits setting every nonzero
// sps_max_num_reorder_pics to 0.
func h265ReorderFields(r *bitReader) []bitEdit {
	r.u(4) // sps_video_parameter_set_id
	maxSub := int(r.u(3))
	r.u(1) // sps_temporal_id_nesting_flag
	if maxSub > 6 {
		r.fail("sps_max_sub_layers_minus1 %d", maxSub)
		return nil
	}
	// profile_tier_level(1, maxSub), 7.3.3
	r.u(32) // general profile space, tier, idc, first compatibility flags
	r.u(32)
	r.u(32) // ... constraint flags, general_level_idc
	profile := make([]bool, maxSub)
	level := make([]bool, maxSub)
	for i := range maxSub {
		profile[i] = r.flag()
		level[i] = r.flag()
	}
	if maxSub > 0 {
		r.u(2 * (8 - maxSub)) // reserved_zero_2bits
	}
	for i := range maxSub {
		if profile[i] {
			r.u(32)
			r.u(32)
			r.u(24)
		}
		if level[i] {
			r.u(8)
		}
	}
	r.ue() // sps_seq_parameter_set_id
	if r.ue() == 3 {
		r.u(1) // separate_colour_plane_flag
	}
	r.ue()        // pic_width_in_luma_samples
	r.ue()        // pic_height_in_luma_samples
	if r.flag() { // conformance_window_flag
		r.ue()
		r.ue()
		r.ue()
		r.ue()
	}
	r.ue() // bit_depth_luma_minus8
	r.ue() // bit_depth_chroma_minus8
	r.ue() // log2_max_pic_order_cnt_lsb_minus4
	first := maxSub
	if r.flag() { // sps_sub_layer_ordering_info_present_flag
		first = 0
	}
	var edits []bitEdit
	for i := first; i <= maxSub && r.err == nil; i++ {
		r.ue() // sps_max_dec_pic_buffering_minus1
		start := r.pos
		if r.ue() != 0 { // sps_max_num_reorder_pics
			edits = append(edits, bitEdit{start: start, end: r.pos})
		}
		r.ue() // sps_max_latency_increase_plus1
	}
	if r.err != nil {
		return nil
	}
	return edits
}

// bitReader reads an RBSP. The first error sticks; reads after it
// return 0.
type bitReader struct {
	buf []byte
	pos int
	err error
}

func (r *bitReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *bitReader) u(n int) uint64 {
	if r.err != nil {
		return 0
	}
	v, err := bits.ReadBits(r.buf, &r.pos, n)
	if err != nil {
		r.err = err
	}
	return v
}

func (r *bitReader) flag() bool { return r.u(1) == 1 }

func (r *bitReader) ue() uint32 {
	if r.err != nil {
		return 0
	}
	v, err := bits.ReadGolombUnsigned(r.buf, &r.pos)
	if err != nil {
		r.err = err
	}
	return v
}

func (r *bitReader) se() int32 {
	if r.err != nil {
		return 0
	}
	v, err := bits.ReadGolombSigned(r.buf, &r.pos)
	if err != nil {
		r.err = err
	}
	return v
}

// bitEdit replaces the exp-Golomb field at bits [start, end) with ue(0).
type bitEdit struct{ start, end int }

// splice copies rbsp with each edit applied (edits in order, not
// overlapping) and re-terminates it: everything up to and including the
// rbsp_stop_one_bit is kept, then zero bits to a byte boundary.
func splice(rbsp []byte, edits []bitEdit) ([]byte, error) {
	stop := lastOneBit(rbsp)
	if stop < 0 {
		return nil, errors.New("no rbsp_stop_one_bit")
	}
	w := &bitWriter{}
	pos := 0
	for _, e := range edits {
		if e.start < pos || e.end > stop {
			return nil, errors.New("field beyond the end of the rbsp")
		}
		w.copy(rbsp, pos, e.start)
		w.bit(1) // ue(0)
		pos = e.end
	}
	w.copy(rbsp, pos, stop+1)
	return w.buf, nil
}

// lastOneBit returns the position of the last set bit, or -1.
func lastOneBit(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] != 0 {
			for j := 7; j >= 0; j-- {
				if b[i]&(1<<(7-j)) != 0 {
					return i*8 + j
				}
			}
		}
	}
	return -1
}

// bitWriter appends bits MSB first; unused bits of the last byte are 0.
type bitWriter struct {
	buf []byte
	n   int // bits written
}

func (w *bitWriter) bit(v byte) {
	if w.n%8 == 0 {
		w.buf = append(w.buf, 0)
	}
	w.buf[len(w.buf)-1] |= (v & 1) << (7 - w.n%8)
	w.n++
}

// copy appends bits [from, to) of src.
func (w *bitWriter) copy(src []byte, from, to int) {
	for p := from; p < to; p++ {
		w.bit(src[p/8] >> (7 - p%8))
	}
}

// emulationPreventionAdd inserts emulation_prevention_three_byte where
// the RBSP would otherwise contain a start code prefix (ITU-T H.264
// 7.4.1).
func emulationPreventionAdd(rbsp []byte) []byte {
	out := make([]byte, 0, len(rbsp)+len(rbsp)/64+1)
	zeros := 0
	for _, b := range rbsp {
		if zeros >= 2 && b <= 3 {
			out = append(out, 3)
			zeros = 0
		}
		out = append(out, b)
		if b == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}
