package rtmp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/abema/go-mp4"
	"github.com/bluenviron/gortmplib/pkg/amf0"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"onair/internal/ingest"
	"onair/internal/media"
)

// demuxer turns RTMP messages (FLV tags, Adobe FLV spec v10.1 E.4, and
// Enhanced RTMP v2) into Session calls. Only track 0 is read: multitrack
// messages are ignored.
type demuxer struct {
	sess *ingest.Session
	ts   ingest.Unwrapper // RTMP timestamps: 32-bit milliseconds
}

func newDemuxer(sess *ingest.Session) *demuxer {
	return &demuxer{sess: sess, ts: ingest.Unwrapper{Bits: 32}}
}

// handle processes one message received at wall.
func (d *demuxer) handle(msg message.Message, wall time.Time) error {
	switch m := msg.(type) {
	case *message.DataAMF0:
		d.metadata(m.Payload)
	case *message.Video:
		return d.video(m, wall)
	case *message.VideoExSequenceStart:
		return d.videoExStart(m)
	case *message.VideoExCodedFrames:
		return d.videoExFrame(m.FourCC, m.DTS, m.PTSDelta, m.Payload, wall)
	case *message.VideoExFramesX:
		return d.videoExFrame(m.FourCC, m.DTS, 0, m.Payload, wall)
	case *message.Audio:
		return d.audio(m, wall)
	case *message.AudioExSequenceStart:
		if m.FourCC != message.FourCCMP4A || m.AACConfig == nil {
			return ingest.UnsupportedCodec("audio", fourCCName(uint32(m.FourCC)))
		}
		return d.sess.SetAudioConfig(*m.AACConfig)
	case *message.AudioExCodedFrames:
		if m.FourCC != message.FourCCMP4A {
			return ingest.UnsupportedCodec("audio", fourCCName(uint32(m.FourCC)))
		}
		return d.sess.WriteAudio(d.ticks(m.DTS, 0), m.Payload, wall)
	}
	return nil
}

// metadata reads onMetaData (sent as "@setDataFrame", "onMetaData", {..}):
// the frame rate is a fallback for SPS without timing, and an audio codec
// id tells the session to wait for the audio config.
func (d *demuxer) metadata(p amf0.Data) {
	isMeta := false
	for _, item := range p {
		if s, ok := item.(string); ok && s == "onMetaData" {
			isMeta = true
			continue
		}
		var obj amf0.Object
		switch o := item.(type) {
		case amf0.Object:
			obj = o
		case amf0.ECMAArray:
			obj = amf0.Object(o)
		default:
			continue
		}
		if !isMeta {
			return
		}
		if fps, ok := obj.GetFloat64("framerate"); ok {
			d.sess.SetFPSHint(fps)
		}
		has, hasOK := obj.Get("hasAudio")
		if b, ok := has.(bool); hasOK && ok && !b {
			return
		}
		if id, ok := obj.Get("audiocodecid"); ok {
			switch v := id.(type) {
			case float64:
				if v != 0 {
					d.sess.DeclareAudio()
				}
			case string:
				if v != "" {
					d.sess.DeclareAudio()
				}
			}
		}
		return
	}
}

func (d *demuxer) video(m *message.Video, wall time.Time) error {
	codec := media.CodecH264
	if m.Codec == message.CodecH265 {
		codec = media.CodecH265
	}
	if err := d.sess.SetVideoCodec(codec); err != nil {
		return err
	}
	switch m.Type {
	case message.VideoTypeConfig:
		if codec == media.CodecH264 {
			if m.AVCConfig != nil {
				d.avcConfig(m.AVCConfig)
			}
			return nil
		}
		if m.HEVCConfig != nil {
			d.hevcConfig(m.HEVCConfig)
		}
	case message.VideoTypeAU:
		return d.frame(m.DTS, m.PTSDelta, m.AU, wall)
	}
	return nil
}

func (d *demuxer) videoExStart(m *message.VideoExSequenceStart) error {
	switch m.FourCC {
	case message.FourCCAVC:
		if err := d.sess.SetVideoCodec(media.CodecH264); err != nil {
			return err
		}
		if m.AVCConfig != nil {
			d.avcConfig(m.AVCConfig)
		}
	case message.FourCCHEVC:
		if err := d.sess.SetVideoCodec(media.CodecH265); err != nil {
			return err
		}
		if m.HEVCConfig != nil {
			d.hevcConfig(m.HEVCConfig)
		}
	default:
		return ingest.UnsupportedCodec("video", fourCCName(uint32(m.FourCC)))
	}
	return nil
}

func (d *demuxer) videoExFrame(fourCC message.FourCC, dts, ptsDelta time.Duration, payload []byte, wall time.Time) error {
	switch fourCC {
	case message.FourCCAVC:
		if err := d.sess.SetVideoCodec(media.CodecH264); err != nil {
			return err
		}
	case message.FourCCHEVC:
		if err := d.sess.SetVideoCodec(media.CodecH265); err != nil {
			return err
		}
	default:
		return ingest.UnsupportedCodec("video", fourCCName(uint32(fourCC)))
	}
	return d.frame(dts, ptsDelta, payload, wall)
}

// frame writes one length-prefixed (AVCC, ISO/IEC 14496-15 5.3.4.2.1)
// access unit. H.265 uses the same framing.
func (d *demuxer) frame(dts, ptsDelta time.Duration, payload []byte, wall time.Time) error {
	var au h264.AVCC
	if err := au.Unmarshal(payload); err != nil {
		if errors.Is(err, h264.ErrAVCCNoNALUs) {
			return nil
		}
		return ingest.Rejectf(ingest.ResultError, "invalid video frame: %w", err)
	}
	dtsTicks := d.ticks(dts, 0)
	return d.sess.WriteVideo(dtsTicks+durationTicks(ptsDelta), dtsTicks, au, wall)
}

func (d *demuxer) audio(m *message.Audio, wall time.Time) error {
	if m.Codec != message.CodecMPEG4Audio {
		return ingest.UnsupportedCodec("audio", flvAudioName(int(m.Codec)))
	}
	d.sess.DeclareAudio()
	switch m.AACType {
	case message.AudioAACTypeConfig:
		if m.AACConfig != nil {
			return d.sess.SetAudioConfig(*m.AACConfig)
		}
	case message.AudioAACTypeAU:
		return d.sess.WriteAudio(d.ticks(m.DTS, 0), m.AU, wall)
	}
	return nil
}

func (d *demuxer) avcConfig(c *mp4.AVCDecoderConfiguration) {
	var sps, pps []byte
	if len(c.SequenceParameterSets) > 0 {
		sps = c.SequenceParameterSets[0].NALUnit
	}
	if len(c.PictureParameterSets) > 0 {
		pps = c.PictureParameterSets[0].NALUnit
	}
	d.sess.SetParams(nil, nonEmpty(sps), nonEmpty(pps))
}

func (d *demuxer) hevcConfig(c *mp4.HvcC) {
	var vps, sps, pps []byte
	for _, arr := range c.NaluArrays {
		if len(arr.Nalus) == 0 {
			continue
		}
		n := nonEmpty(arr.Nalus[0].NALUnit)
		switch h265.NALUType(arr.NaluType) {
		case h265.NALUType_VPS_NUT:
			vps = n
		case h265.NALUType_SPS_NUT:
			sps = n
		case h265.NALUType_PPS_NUT:
			pps = n
		}
	}
	d.sess.SetParams(vps, sps, pps)
}

// ticks converts an RTMP timestamp (whole milliseconds, wrapping at 2^32)
// plus an offset to 90 kHz ticks on the unwrapped timeline.
func (d *demuxer) ticks(ts, offset time.Duration) int64 {
	ms := d.ts.Unwrap(int64(ts / time.Millisecond))
	return ms*90 + durationTicks(offset)
}

// durationTicks converts a small duration to 90 kHz ticks without
// overflowing.
func durationTicks(v time.Duration) int64 {
	return int64(v/time.Millisecond)*90 + int64(v%time.Millisecond)*media.Timescale/int64(time.Second)
}

func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// flvVideoName names an FLV VideoTagHeader CodecID (FLV spec E.4.3.1).
func flvVideoName(id int) string {
	switch id {
	case 1:
		return "JPEG"
	case 2:
		return "Sorenson H.263 (flv1)"
	case 3:
		return "Screen video"
	case 4:
		return "On2 VP6"
	case 5:
		return "On2 VP6 with alpha"
	case 6:
		return "Screen video v2"
	}
	return "flv codec id " + strconv.Itoa(id)
}

// flvAudioName names an FLV AudioTagHeader SoundFormat (FLV spec E.4.2.1).
func flvAudioName(id int) string {
	switch id {
	case 0, 3:
		return "linear PCM"
	case 1:
		return "ADPCM"
	case 2, 14:
		return "MP3"
	case 4, 5, 6:
		return "Nellymoser"
	case 7:
		return "G.711 A-law"
	case 8:
		return "G.711 mu-law"
	case 11:
		return "Speex"
	}
	return "flv sound format " + strconv.Itoa(id)
}

// fourCCName renders an Enhanced RTMP FourCC ("av01", "Opus").
func fourCCName(v uint32) string {
	b := []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("fourcc 0x%08x", v)
		}
	}
	return strconv.Quote(string(b))
}

// unsupportedFromReadError returns the unsupported-codec rejection a read
// error stands for, or nil. gortmplib (v1.0.2, pkg/message) refuses codecs
// it cannot parse inside Read with these messages, the only place the codec
// id is visible.
func unsupportedFromReadError(err error) error {
	s := err.Error()
	if id, ok := numberAfter(s, "unsupported video codec: "); ok {
		return ingest.UnsupportedCodec("video", flvVideoName(int(id)))
	}
	if id, ok := numberAfter(s, "unsupported audio codec: "); ok {
		return ingest.UnsupportedCodec("audio", flvAudioName(int(id)))
	}
	if v, ok := numberAfter(s, "unsupported fourCC: "); ok {
		return ingest.UnsupportedCodec("", fourCCName(uint32(v)))
	}
	return nil
}

// numberAfter returns the decimal number that follows prefix in s.
func numberAfter(s, prefix string) (uint64, bool) {
	i := strings.Index(s, prefix)
	if i < 0 {
		return 0, false
	}
	s = s[i+len(prefix):]
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	v, err := strconv.ParseUint(s[:end], 10, 32)
	return v, err == nil
}
