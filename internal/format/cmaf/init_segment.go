package cmaf

import (
	"bytes"
	"fmt"

	"github.com/Eyevinn/mp4ff/mp4"

	"onair/internal/media"
)

// TrackID is the track ID of the single track in every init and fragment.
const TrackID = 1

// Init builds the CMAF init segment (ftyp + moov with one track, ID 1, and
// an mvex for fragments) of t, and returns it with the track's TrackInfo.
//
// H.264 uses the avc1 sample entry (parameter sets in avcC, ISO/IEC
// 14496-15 5.4), H.265 hvc1 (parameter sets in hvcC, complete), AAC mp4a
// with an esds carrying t's AudioSpecificConfig verbatim.
func Init(t media.Track) ([]byte, TrackInfo, error) {
	info, err := Describe(t)
	if err != nil {
		return nil, TrackInfo{}, err
	}
	init := mp4.CreateEmptyInit()
	switch t.Codec {
	case media.CodecH264:
		if len(t.PPS) == 0 {
			return nil, TrackInfo{}, fmt.Errorf("cmaf: h264 track without pps")
		}
		trak := init.AddEmptyTrack(info.Timescale, "video", "und")
		if err := trak.SetAVCDescriptor("avc1", [][]byte{t.SPS}, [][]byte{t.PPS}, true); err != nil {
			return nil, TrackInfo{}, fmt.Errorf("cmaf: avc1 sample entry: %w", err)
		}
	case media.CodecH265:
		if len(t.VPS) == 0 || len(t.PPS) == 0 {
			return nil, TrackInfo{}, fmt.Errorf("cmaf: h265 track needs vps, sps and pps")
		}
		trak := init.AddEmptyTrack(info.Timescale, "video", "und")
		if err := trak.SetHEVCDescriptor("hvc1", [][]byte{t.VPS}, [][]byte{t.SPS}, [][]byte{t.PPS}, nil, true); err != nil {
			return nil, TrackInfo{}, fmt.Errorf("cmaf: hvc1 sample entry: %w", err)
		}
	case media.CodecAAC:
		asc, err := audioSpecificConfig(t)
		if err != nil {
			return nil, TrackInfo{}, err
		}
		trak := init.AddEmptyTrack(info.Timescale, "audio", "und")
		// The AudioSampleEntry's samplerate field is 16.16 fixed point
		// and cannot hold rates above 65535 Hz; decoders use the esds.
		rate := uint16(0)
		if info.SampleRate <= 0xffff {
			rate = uint16(info.SampleRate)
		}
		mp4a := mp4.CreateAudioSampleEntryBox("mp4a", uint16(info.Channels), 16, rate, mp4.CreateEsdsBox(asc))
		trak.Mdia.Minf.Stbl.Stsd.AddChild(mp4a)
	default:
		return nil, TrackInfo{}, fmt.Errorf("cmaf: codec %q: %w", t.Codec, ErrUnsupported)
	}
	var buf bytes.Buffer
	buf.Grow(int(init.Size()))
	if err := init.Encode(&buf); err != nil {
		return nil, TrackInfo{}, fmt.Errorf("cmaf: encode init: %w", err)
	}
	return buf.Bytes(), info, nil
}
