package cmaf

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/avc"
	"github.com/Eyevinn/mp4ff/hevc"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"onair/internal/media"
)

// ErrUnsupported is returned for a codec or configuration that cannot be
// packaged as CMAF by this package.
var ErrUnsupported = errors.New("unsupported codec")

// VideoTimescale is the timescale of every video track: the channel clock's
// 90 kHz, so a sample's decode time in the track equals its channel DTS.
const VideoTimescale = media.Timescale

// TrackInfo is what manifests and the segmenter need to know about a track.
type TrackInfo struct {
	Kind      media.Kind
	Codecs    string // RFC 6381 codecs parameter, e.g. "avc1.64001F", "mp4a.40.2"
	Timescale uint32 // track (mdhd) timescale
	// Video.
	Width, Height int
	// Audio. SampleRate is the decoder output rate (the timescale); for
	// explicitly signalled HE-AAC it is the SBR extension rate.
	SampleRate int
	Channels   int
	// FrameDuration is one audio access unit in Timescale units: 1024 for
	// AAC-LC (960 with the frameLengthFlag), doubled for HE-AAC at the
	// extension rate. 0 for video.
	FrameDuration uint32
	// AudioObjectType is the MPEG-4 audio object type in the codecs string
	// (2 AAC-LC, 5 HE-AAC, 29 HE-AACv2).
	AudioObjectType int
}

// Describe derives the TrackInfo of t. Video tracks need their SPS (and
// VPS for H.265); audio tracks need AudioConfig or, failing that,
// SampleRate and Channels (AAC-LC is then assumed).
func Describe(t media.Track) (TrackInfo, error) {
	switch t.Codec {
	case media.CodecH264:
		if len(t.SPS) == 0 {
			return TrackInfo{}, fmt.Errorf("cmaf: h264 track without sps")
		}
		sps, err := avc.ParseSPSNALUnit(t.SPS, false)
		if err != nil {
			return TrackInfo{}, fmt.Errorf("cmaf: parse h264 sps: %w", err)
		}
		return TrackInfo{
			Kind:      media.KindVideo,
			Codecs:    avc.CodecString("avc1", sps),
			Timescale: VideoTimescale,
			Width:     int(sps.Width),
			Height:    int(sps.Height),
		}, nil
	case media.CodecH265:
		if len(t.SPS) == 0 {
			return TrackInfo{}, fmt.Errorf("cmaf: h265 track without sps")
		}
		sps, err := hevc.ParseSPSNALUnit(t.SPS)
		if err != nil {
			return TrackInfo{}, fmt.Errorf("cmaf: parse h265 sps: %w", err)
		}
		w, h := sps.ImageSize()
		return TrackInfo{
			Kind:      media.KindVideo,
			Codecs:    hevc.CodecString("hvc1", sps),
			Timescale: VideoTimescale,
			Width:     int(w),
			Height:    int(h),
		}, nil
	case media.CodecAAC:
		return describeAAC(t)
	}
	return TrackInfo{}, fmt.Errorf("cmaf: codec %q: %w", t.Codec, ErrUnsupported)
}

// CodecString returns the RFC 6381 codecs parameter of t.
func CodecString(t media.Track) (string, error) {
	info, err := Describe(t)
	if err != nil {
		return "", err
	}
	return info.Codecs, nil
}

// audioConfig is the part of an AudioSpecificConfig the packager needs.
type audioConfig struct {
	objectType   int // as signalled first: 2, 5 or 29
	baseRate     int // core AAC sampling rate
	outRate      int // decoder output rate
	channels     int
	frameSamples int // per frame at baseRate: 1024 or 960
}

func parseAudioConfig(asc []byte) (audioConfig, error) {
	var c mpeg4audio.AudioSpecificConfig
	if err := c.Unmarshal(asc); err == nil {
		ac := audioConfig{objectType: int(c.Type), baseRate: c.SampleRate, outRate: c.SampleRate, channels: int(c.ChannelConfig), frameSamples: 1024}
		if c.ExtensionType == mpeg4audio.ObjectTypeSBR || c.ExtensionType == mpeg4audio.ObjectTypePS {
			ac.objectType = int(c.ExtensionType)
			if c.ExtensionSampleRate > 0 {
				ac.outRate = c.ExtensionSampleRate
			}
		}
		if c.ChannelConfig == 7 {
			ac.channels = 8
		}
		if c.FrameLengthFlag {
			ac.frameSamples = 960
		}
		return ac, nil
	}
	// mediacommon refuses some legal configs (extension flags, other object
	// types); the common header is enough for timing and the codecs string.
	h, err := aac.DecodeAudioSpecificConfigHeader(bytes.NewReader(asc))
	if err != nil {
		return audioConfig{}, fmt.Errorf("cmaf: parse audio specific config: %w", err)
	}
	if h.SamplingFrequency <= 0 {
		return audioConfig{}, fmt.Errorf("cmaf: audio specific config: sampling frequency %d", h.SamplingFrequency)
	}
	return audioConfig{objectType: int(h.ObjectType), baseRate: h.SamplingFrequency, outRate: h.SamplingFrequency,
		channels: int(h.ChannelConfiguration), frameSamples: 1024}, nil
}

// audioSpecificConfig returns t's AudioSpecificConfig, synthesizing an
// AAC-LC one from SampleRate and Channels when the track has none.
func audioSpecificConfig(t media.Track) ([]byte, error) {
	if len(t.AudioConfig) > 0 {
		return t.AudioConfig, nil
	}
	if t.SampleRate <= 0 || t.Channels <= 0 || t.Channels > 8 {
		return nil, fmt.Errorf("cmaf: aac track without audio config needs sample rate and channels (got %d Hz, %d ch)", t.SampleRate, t.Channels)
	}
	cc := uint8(t.Channels)
	if t.Channels == 8 {
		cc = 7
	} else if t.Channels == 7 {
		return nil, fmt.Errorf("cmaf: 7 channels need an explicit audio config: %w", ErrUnsupported)
	}
	c := mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: t.SampleRate, ChannelConfig: cc, ChannelCount: t.Channels}
	b, err := c.Marshal()
	if err != nil {
		return nil, fmt.Errorf("cmaf: build audio specific config: %w", err)
	}
	return b, nil
}

func describeAAC(t media.Track) (TrackInfo, error) {
	asc, err := audioSpecificConfig(t)
	if err != nil {
		return TrackInfo{}, err
	}
	ac, err := parseAudioConfig(asc)
	if err != nil {
		return TrackInfo{}, err
	}
	switch ac.objectType {
	case 2, 5, 29:
	default:
		return TrackInfo{}, fmt.Errorf("cmaf: audio object type %d: %w", ac.objectType, ErrUnsupported)
	}
	channels := ac.channels
	if channels == 0 {
		channels = t.Channels // layout in a PCE: trust the track
	}
	frame := ac.frameSamples * ac.outRate / ac.baseRate
	return TrackInfo{
		Kind:            media.KindAudio,
		Codecs:          fmt.Sprintf("mp4a.40.%d", ac.objectType),
		Timescale:       uint32(ac.outRate),
		SampleRate:      ac.outRate,
		Channels:        channels,
		FrameDuration:   uint32(frame),
		AudioObjectType: ac.objectType,
	}, nil
}
