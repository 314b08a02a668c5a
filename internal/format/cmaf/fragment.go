package cmaf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/Eyevinn/mp4ff/mp4"
)

// Sample is one media sample of a fragment. Times are in the track
// timescale.
type Sample struct {
	// Duration until the next sample's decode time.
	Duration uint32
	// CompositionOffset is PTS - DTS (negative values are allowed: the trun
	// is version 1).
	CompositionOffset int32
	// Sync marks a random access point (IDR; every audio frame).
	Sync bool
	// Data is the sample payload: length-prefixed NAL units (see
	// AppendNALUs) for video, one raw AAC frame for audio.
	Data []byte
}

// Sample flags (ISO/IEC 14496-12 8.8.3.1): a sync sample does not depend on
// others (sample_depends_on = 2); any other sample depends on others (1) and
// is non-sync.
const (
	syncFlags    = mp4.SyncSampleFlags
	nonSyncFlags = mp4.NonSyncSampleFlags | mp4.SampleDependsOn1
)

// ErrEmptyFragment is returned when a fragment would hold no samples.
var ErrEmptyFragment = errors.New("fragment without samples")

// NewFragment builds one CMAF chunk (moof + mdat, ISO/IEC 23000-19 7.3.2.3)
// of track 1 with mfhd sequence number seq and tfdt baseMediaDecodeTime
// decodeTime (the first sample's decode time in the track timescale). The
// result has not been encoded yet, so a caller may still transform it (for
// example encrypt it) before Encode.
func NewFragment(seq uint32, decodeTime uint64, samples []Sample) (*mp4.Fragment, error) {
	if len(samples) == 0 {
		return nil, ErrEmptyFragment
	}
	f, err := mp4.CreateFragment(seq, TrackID)
	if err != nil {
		return nil, fmt.Errorf("cmaf: create fragment: %w", err)
	}
	size := 0
	for _, s := range samples {
		size += len(s.Data)
	}
	if size > math.MaxUint32-64 {
		return nil, fmt.Errorf("cmaf: fragment of %d bytes is too large", size)
	}
	data := make([]byte, 0, size)
	for i, s := range samples {
		flags := nonSyncFlags
		if s.Sync {
			flags = syncFlags
		}
		sample := mp4.NewSample(flags, s.Duration, uint32(len(s.Data)), s.CompositionOffset)
		if i == 0 {
			f.AddSample(sample, decodeTime)
		} else {
			f.AddSample(sample, 0)
		}
		data = append(data, s.Data...)
	}
	f.Mdat.SetData(data)
	f.EncOptimize = mp4.OptimizeTrun
	return f, nil
}

// Fragment builds and encodes one chunk; see NewFragment.
func Fragment(seq uint32, decodeTime uint64, samples []Sample) ([]byte, error) {
	f, err := NewFragment(seq, decodeTime, samples)
	if err != nil {
		return nil, err
	}
	return EncodeFragment(f)
}

// EncodeFragment serializes a fragment built by NewFragment.
func EncodeFragment(f *mp4.Fragment) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(f.Size()) + 64)
	if err := f.Encode(&buf); err != nil {
		return nil, fmt.Errorf("cmaf: encode fragment: %w", err)
	}
	return buf.Bytes(), nil
}

// Styp returns the segment type box that opens every CMAF segment and the
// first chunk of it (ISO/IEC 23000-19 7.3.3.3): major brand msdh,
// compatible msdh and cmfs.
func Styp() []byte {
	var buf bytes.Buffer
	// Encoding a fixed box into a bytes.Buffer cannot fail.
	_ = mp4.NewStyp("msdh", 0, []string{"msdh", "cmfs"}).Encode(&buf)
	return buf.Bytes()
}

// AppendNALUs appends nalus to dst in the sample format of avc1/hvc1
// (ISO/IEC 14496-15: each NAL unit preceded by its 4-byte big-endian
// length, lengthSizeMinusOne = 3 in avcC/hvcC).
func AppendNALUs(dst []byte, nalus [][]byte) []byte {
	for _, b := range nalus {
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
		dst = append(dst, b...)
	}
	return dst
}
