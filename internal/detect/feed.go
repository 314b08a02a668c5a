package detect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"onair/internal/media"
)

// feedPad is how far before the first unit the fed timeline starts (1 s):
// audio that precedes the first keyframe, and B-frames' PTS around DTS,
// stay at positive timestamps.
const feedPad = media.Timescale

// maxJump bounds the DTS step between two units of a track: a larger
// jump, or any step back, is a discontinuity and the run is restarted on
// a new timeline.
const maxJump = 30 * media.Timescale

// errDiscontinuity reports a timestamp jump in the input.
var errDiscontinuity = errors.New("timestamp discontinuity")

// NAL unit types used here.
const (
	h264SPS = 7
	h264PPS = 8
	h265VPS = 32
	h265SPS = 33
	h265PPS = 34
)

// feeder writes one ffmpeg run's input: a live Matroska stream (see
// matroska.go) with the tracks the run decodes, on a timeline shifted to
// start near zero (fed = channel - shift, in microseconds for Matroska).
type feeder struct {
	w     io.Writer
	buf   []byte
	shift int64

	video, audio bool
	hevc         bool
	keyOnly      bool
	params       [][]byte // the track's parameter sets, SPS made low-delay when keyOnly
	spsIn        []byte   // last in-band SPS seen and its rewrite
	spsOut       []byte
	wroteHeader  bool
	header       []byte

	last  [3]int64 // last DTS per media.Kind
	begun [3]bool

	walls [3]*wallMap
}

// newFeeder prepares a feeder writing to w. video or audio is nil when
// that track is not decoded. Nothing is written before the first unit.
func newFeeder(w io.Writer, video, audio *media.Track, keyOnly bool, shift int64) (*feeder, error) {
	f := &feeder{w: w, shift: shift, keyOnly: keyOnly}
	var tracks []mkvTrack
	if video != nil {
		f.video = true
		f.hevc = video.Codec == media.CodecH265
		f.params = f.parameterSets(video)
		t := mkvTrack{number: mkvVideoTrack, video: true, width: video.Width, height: video.Height}
		var err error
		if f.hevc {
			t.codecID = "V_MPEGH/ISO/HEVC"
			t.private, err = hevcConfig(video.VPS, f.sps(video.SPS), video.PPS)
		} else {
			t.codecID = "V_MPEG4/ISO/AVC"
			t.private, err = avcConfig(f.sps(video.SPS), video.PPS)
		}
		if err != nil {
			// In-band parameter sets may still make the stream decodable.
			t.private = nil
		}
		tracks = append(tracks, t)
		f.walls[media.KindVideo] = newWallMap(1024)
	}
	if audio != nil {
		var conf mpeg4audio.AudioSpecificConfig
		if err := conf.Unmarshal(audio.AudioConfig); err != nil {
			return nil, fmt.Errorf("audio config: %w", err)
		}
		ch := int(conf.ChannelConfig)
		if ch == 7 {
			ch = 8
		}
		if ch == 0 {
			ch = max(audio.Channels, 1)
		}
		f.audio = true
		tracks = append(tracks, mkvTrack{number: mkvAudioTrack, codecID: "A_AAC", private: audio.AudioConfig,
			sampleRate: float64(conf.SampleRate), channels: ch})
		f.walls[media.KindAudio] = newWallMap(1024)
	}
	if len(tracks) == 0 {
		return nil, errors.New("no track to feed")
	}
	f.header = mkvHeader(tracks)
	return f, nil
}

func (f *feeder) parameterSets(t *media.Track) [][]byte {
	var ps [][]byte
	if f.hevc && len(t.VPS) > 0 {
		ps = append(ps, t.VPS)
	}
	if len(t.SPS) > 0 {
		ps = append(ps, f.sps(t.SPS))
	}
	if len(t.PPS) > 0 {
		ps = append(ps, t.PPS)
	}
	return ps
}

// sps returns the SPS to send: made low-delay in keyframes-only mode
// (see lowDelaySPS), the original when that is not needed or fails.
func (f *feeder) sps(in []byte) []byte {
	if !f.keyOnly {
		return in
	}
	if f.spsIn != nil && string(in) == string(f.spsIn) {
		return f.spsOut
	}
	out, _, err := lowDelaySPS(in, f.hevc)
	if err != nil {
		out = in // an SPS we cannot parse: ffmpeg may still decode it, late
	}
	f.spsIn, f.spsOut = in, out
	return out
}

// write sends one unit. Units of a track that is not fed, empty units and
// units before the timeline's start are skipped. It returns
// errDiscontinuity on a timestamp jump and any error writing to w.
func (f *feeder) write(u *media.Unit) error {
	switch {
	case u.Kind == media.KindVideo && f.video:
	case u.Kind == media.KindAudio && f.audio:
	default:
		return nil
	}
	if f.begun[u.Kind] && (u.DTS < f.last[u.Kind] || u.DTS-f.last[u.Kind] > maxJump) {
		return fmt.Errorf("%v DTS %d after %d: %w", u.Kind, u.DTS, f.last[u.Kind], errDiscontinuity)
	}
	dts := u.DTS - f.shift
	if dts < 0 {
		return nil // before the timeline starts (audio ahead of the first keyframe)
	}
	pts := max(u.PTS-f.shift, dts)
	var err error
	if u.Kind == media.KindVideo {
		err = f.writeVideo(u, pts)
	} else {
		err = f.writeFrame(mkvAudioTrack, pts, true, [][]byte{u.Audio}, false)
	}
	if err != nil {
		return err
	}
	f.last[u.Kind], f.begun[u.Kind] = u.DTS, true
	f.walls[u.Kind].put(u.PTS, u.Wall)
	return nil
}

func (f *feeder) writeVideo(u *media.Unit, pts int64) error {
	au := make([][]byte, 0, len(u.NALUs)+3)
	hasSPS := false
	for _, n := range u.NALUs {
		if len(n) == 0 {
			continue
		}
		if t := naluType(n, f.hevc); (f.hevc && t == h265SPS) || (!f.hevc && t == h264SPS) {
			n = f.sps(n)
			hasSPS = true
		}
		au = append(au, n)
	}
	if len(au) == 0 {
		return nil
	}
	if u.Key && !hasSPS {
		// RTMP carries parameter sets out of band; put them in band so a
		// changed set, or a missing CodecPrivate, still decodes.
		au = append(append([][]byte(nil), f.params...), au...)
	}
	return f.writeFrame(mkvVideoTrack, pts, u.Key, au, true)
}

// writeFrame writes one frame at pts (fed ticks) as a Matroska cluster.
// Video NAL units get 4-byte length prefixes; audio is written as is.
func (f *feeder) writeFrame(track uint64, pts int64, key bool, parts [][]byte, lengths bool) error {
	if len(parts) == 0 || (len(parts) == 1 && len(parts[0]) == 0) {
		return nil
	}
	n := 0
	for _, p := range parts {
		n += len(p)
		if lengths {
			n += 4
		}
	}
	buf := f.buf[:0]
	if !f.wroteHeader {
		buf = append(buf, f.header...)
		f.wroteHeader = true
	}
	buf = mkvFrame(buf, track, ticksToMicros(pts), key, n, func(b []byte) []byte {
		for _, p := range parts {
			if lengths {
				b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
			}
			b = append(b, p...)
		}
		return b
	})
	f.buf = buf
	if cap(f.buf) > 1<<20 {
		f.buf = nil // do not keep a huge frame's buffer
	}
	_, err := f.w.Write(buf)
	return err
}

// ticksToMicros converts 90 kHz ticks to microseconds, rounding.
func ticksToMicros(t int64) int64 { return (t*100 + 4) / 9 }

func naluType(n []byte, hevc bool) int {
	if len(n) == 0 {
		return -1
	}
	if hevc {
		return int(n[0]>>1) & 0x3f
	}
	return int(n[0]) & 0x1f
}
