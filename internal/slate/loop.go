package slate

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/Eyevinn/mp4ff/mp4"

	"onair/internal/media"
)

// Loop is a slate as media units, for a channel's stream to play while
// it has no input: one segment of H.264 frames to repeat (a keyframe
// first, frame rate × duration frames, so every repetition starts on the
// segment grid) and one frame of AAC silence to repeat.
type Loop struct {
	Video media.Track
	// Frames is one repetition: PTS = DTS from 0, 90 kHz.
	Frames []media.Unit
	// Period is the length of one repetition in 90 kHz ticks.
	Period int64
	// Audio is the zero Track when the loop has no sound.
	Audio media.Track
	// Silence is one raw AAC frame (1024 samples) of silence.
	Silence []byte
}

// NewLoop renders a loop shaped like video (size and frame rate) and, if
// audio is not nil, audio (sample rate and channels).
func NewLoop(ctx context.Context, opts Options, video, audio *media.Track) (*Loop, error) {
	if video == nil {
		return nil, fmt.Errorf("slate: a loop needs a video shape")
	}
	w, h := video.Width&^1, video.Height&^1
	vt, err := RenderVideo(ctx, opts, Video{Width: w, Height: h, FrameRate: video.FPS})
	if err != nil {
		return nil, err
	}
	l := &Loop{}
	if err := l.readVideo(vt); err != nil {
		return nil, fmt.Errorf("slate: loop video: %w", err)
	}
	if audio != nil {
		at, err := RenderAudio(ctx, opts, Audio{SampleRate: audio.SampleRate, Channels: audio.Channels})
		if err != nil {
			return nil, err
		}
		if err := l.readAudio(at); err != nil {
			return nil, fmt.Errorf("slate: loop audio: %w", err)
		}
	}
	return l, nil
}

// decode parses a track's init and segment.
func decode(t *Track) (*mp4.File, []mp4.FullSample, error) {
	f, err := mp4.DecodeFile(bytes.NewReader(append(append([]byte(nil), t.Init...), t.Segment(0, 1)...)))
	if err != nil {
		return nil, nil, err
	}
	if f.Init == nil || f.Init.Moov == nil || len(f.Segments) != 1 || len(f.Segments[0].Fragments) != 1 {
		return nil, nil, errLayout
	}
	var trex *mp4.TrexBox
	if f.Init.Moov.Mvex != nil {
		trex = f.Init.Moov.Mvex.Trex
	}
	samples, err := f.Segments[0].Fragments[0].GetFullSamples(trex)
	if err != nil {
		return nil, nil, err
	}
	if len(samples) == 0 {
		return nil, nil, fmt.Errorf("no samples")
	}
	return f, samples, nil
}

func (l *Loop) readVideo(t *Track) error {
	f, samples, err := decode(t)
	if err != nil {
		return err
	}
	stsd := f.Init.Moov.Trak.Mdia.Minf.Stbl.Stsd
	if stsd.AvcX == nil || stsd.AvcX.AvcC == nil || len(stsd.AvcX.AvcC.SPSnalus) == 0 || len(stsd.AvcX.AvcC.PPSnalus) == 0 {
		return fmt.Errorf("no avcC parameter sets")
	}
	avcc := stsd.AvcX.AvcC
	l.Video = media.Track{
		Kind: media.KindVideo, Codec: media.CodecH264,
		Width: int(stsd.AvcX.Width), Height: int(stsd.AvcX.Height),
		SPS: avcc.SPSnalus[0], PPS: avcc.PPSnalus[0],
	}
	ts := int64(t.Timescale)
	var total int64
	for i, s := range samples {
		nalus, err := splitAVCC(s.Data)
		if err != nil {
			return fmt.Errorf("sample %d: %w", i, err)
		}
		dts := (int64(s.DecodeTime) - int64(samples[0].DecodeTime)) * media.Timescale / ts
		pts := dts + int64(s.CompositionTimeOffset)*media.Timescale/ts
		if i == 0 {
			// The keyframe starts every repetition: parameter sets in band.
			nalus = append([][]byte{l.Video.SPS, l.Video.PPS}, nalus...)
		}
		l.Frames = append(l.Frames, media.Unit{Kind: media.KindVideo, DTS: dts, PTS: pts, Key: i == 0, NALUs: nalus})
		total += int64(s.Dur)
	}
	if !samples[0].IsSync() {
		return fmt.Errorf("the first frame is not a keyframe")
	}
	l.Period = total * media.Timescale / ts
	l.Video.FPS = float64(len(samples)) * float64(ts) / float64(total)
	return nil
}

func (l *Loop) readAudio(t *Track) error {
	f, samples, err := decode(t)
	if err != nil {
		return err
	}
	stsd := f.Init.Moov.Trak.Mdia.Minf.Stbl.Stsd
	if stsd.Mp4a == nil || stsd.Mp4a.Esds == nil || stsd.Mp4a.Esds.DecConfigDescriptor == nil ||
		stsd.Mp4a.Esds.DecConfigDescriptor.DecSpecificInfo == nil {
		return fmt.Errorf("no AudioSpecificConfig")
	}
	l.Audio = media.Track{
		Kind: media.KindAudio, Codec: media.CodecAAC,
		SampleRate: int(stsd.Mp4a.SampleRate), Channels: int(stsd.Mp4a.ChannelCount),
		AudioConfig: stsd.Mp4a.Esds.DecConfigDescriptor.DecSpecificInfo.DecConfig,
	}
	// The sample entry's channel count says 2 for mono; the
	// AudioSpecificConfig says what the decoder will output.
	if asc := l.Audio.AudioConfig; len(asc) >= 2 {
		if c := int(asc[1]>>3) & 0x0f; c > 0 && c < 8 {
			l.Audio.Channels = c
		}
	}
	// A frame from the middle: past the encoder's priming.
	l.Silence = samples[len(samples)/2].Data
	return nil
}

// splitAVCC splits 4-byte length-prefixed NAL units.
func splitAVCC(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("truncated NAL unit length")
		}
		n := int(binary.BigEndian.Uint32(b))
		if n == 0 || n > len(b)-4 {
			return nil, fmt.Errorf("NAL unit length %d does not fit", n)
		}
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	return out, nil
}
