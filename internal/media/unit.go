package media

import (
	"fmt"
	"time"
)

// Timescale is the channel clock rate in ticks per second (MPEG 90 kHz).
const Timescale = 90000

// Codec names an elementary stream format.
type Codec string

// Codecs onair understands.
const (
	CodecH264 Codec = "h264"
	CodecH265 Codec = "h265"
	CodecAAC  Codec = "aac"
)

// Kind says whether a track carries video or audio.
type Kind int

// Track kinds.
const (
	KindVideo Kind = iota + 1
	KindAudio
)

// String returns "video" or "audio".
func (k Kind) String() string {
	switch k {
	case KindVideo:
		return "video"
	case KindAudio:
		return "audio"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Track describes one elementary stream of a source or a rendition.
type Track struct {
	Kind  Kind
	Codec Codec

	// Video only. Parameter sets are raw NAL units without start codes or
	// length prefixes. VPS is set for H.265 only.
	Width, Height int
	FPS           float64 // frames per second, 0 when unknown
	VPS, SPS, PPS []byte

	// Audio only. AudioConfig is the MPEG-4 AudioSpecificConfig.
	SampleRate  int // Hz
	Channels    int
	AudioConfig []byte
}

// Unit is one access unit: a video frame or an audio frame.
//
// PTS and DTS are in 90 kHz ticks. A publisher writes source timestamps;
// everything downstream of the stream sees channel-clock timestamps, which
// are never negative and never go back within a track.
type Unit struct {
	Kind Kind
	PTS  int64
	DTS  int64
	// Key marks a random access point (an IDR for video; every audio frame).
	Key bool
	// NALUs holds the video NAL units without start codes or length
	// prefixes. Empty for audio.
	NALUs [][]byte
	// Audio holds one raw AAC frame (no ADTS header). Empty for video.
	Audio []byte
	// Wall is when the unit reached ingest (zero for synthesized units).
	Wall time.Time
}

// Size returns the payload size in bytes.
func (u *Unit) Size() int {
	n := len(u.Audio)
	for _, b := range u.NALUs {
		n += len(b)
	}
	return n
}
