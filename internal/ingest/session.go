package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"onair/internal/media"
	"onair/internal/stream"
)

// Default buffer bounds of a Session.
const (
	DefaultMaxWait  = 5 * time.Second
	DefaultMaxUnits = 2000
)

// SessionConfig configures a Session.
type SessionConfig struct {
	Protocol string // "rtmp" or "srt": metrics label, log attribute, source prefix
	Remote   string // the broadcaster's address
	Target   Target
	Metrics  *Metrics     // required
	Log      *slog.Logger // nil: discard
	// MaxWait bounds, in media time, both the wait for the first video
	// keyframe and the buffering after it while the tracks are still
	// incomplete. Default DefaultMaxWait.
	MaxWait time.Duration
	// MaxUnits bounds the same in units. Default DefaultMaxUnits.
	MaxUnits int
}

// Session turns one broadcaster connection's access units into publisher
// sessions on Target.Stream. The protocol layer tells it the codecs and
// configs it learns and writes units with source timestamps (90 kHz); the
// Session publishes once the tracks are complete.
//
// Not safe for concurrent use: a Session belongs to its connection's
// goroutine.
type Session struct {
	cfg    SessionConfig
	source string
	log    *slog.Logger

	// What the source has told so far.
	codec         media.Codec
	vps, sps, pps []byte
	fpsHint       float64
	audio         *media.Track
	audioDeclared bool

	// Waiting to publish.
	keyed    bool // pending starts with a video keyframe
	pending  []media.Unit
	waited   int
	first    [3]int64 // first DTS per Kind while waiting
	firstSet [3]bool

	// Publishing.
	pub          *stream.Publisher
	pubVideo     *media.Track
	pubAudio     *media.Track
	restartVideo bool     // parameters changed: new session at the next keyframe
	restartAudio bool     // audio config changed: likewise
	last         [3]int64 // last written DTS per Kind
	lastSet      [3]bool
	published    bool
	closed       bool
	backwards    uint64 // units dropped because their DTS went back
}

// NewSession returns a session for one connection. It publishes nothing
// until the first usable keyframe.
func NewSession(cfg SessionConfig) *Session {
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.MaxUnits <= 0 {
		cfg.MaxUnits = DefaultMaxUnits
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Session{cfg: cfg, source: cfg.Protocol + " " + cfg.Remote, log: log}
}

// Source returns the session's source string, e.g. "rtmp 127.0.0.1:50212".
func (s *Session) Source() string { return s.source }

// Published reports whether the session has published at any point.
func (s *Session) Published() bool { return s.published }

// Video returns the video track last published, nil before.
func (s *Session) Video() *media.Track { return s.pubVideo }

// Audio returns the audio track last published, nil if none.
func (s *Session) Audio() *media.Track { return s.pubAudio }

// Dropped returns how many units were dropped because their DTS went back.
func (s *Session) Dropped() uint64 { return s.backwards }

// SetVideoCodec sets the video codec. H.264 and H.265 are supported; a
// change of codec starts a new stream session at the next keyframe.
func (s *Session) SetVideoCodec(c media.Codec) error {
	if c != media.CodecH264 && c != media.CodecH265 {
		return UnsupportedCodec("video", string(c))
	}
	if s.codec != "" && s.codec != c {
		s.vps, s.sps, s.pps = nil, nil, nil
		s.restartVideo = s.pub != nil
	}
	s.codec = c
	return nil
}

// SetParams records out-of-band parameter sets (an RTMP sequence header);
// nil leaves one unchanged. They are prepended to keyframes that lack them.
func (s *Session) SetParams(vps, sps, pps []byte) {
	if vps != nil {
		s.setParam(&s.vps, vps, true)
	}
	if sps != nil {
		s.setParam(&s.sps, sps, true)
	}
	if pps != nil {
		s.setParam(&s.pps, pps, false)
	}
}

// setParam updates one parameter set. A changed VPS or SPS (picture size,
// profile) needs a new stream session; a new PPS travels in-band.
func (s *Session) setParam(p *[]byte, v []byte, restart bool) {
	if bytes.Equal(*p, v) {
		return
	}
	*p = clone(v)
	if restart && s.pub != nil && s.pubVideo != nil &&
		!(bytes.Equal(s.pubVideo.SPS, s.sps) && bytes.Equal(s.pubVideo.VPS, s.vps)) {
		s.restartVideo = true
	}
}

// SetFPSHint gives a frame rate to use when the SPS has no timing info.
func (s *Session) SetFPSHint(fps float64) {
	if saneFPS(fps) {
		s.fpsHint = fps
	}
}

// DeclareAudio tells the session the source carries audio, so it waits
// (within its bound) for the audio config before publishing.
func (s *Session) DeclareAudio() { s.audioDeclared = true }

// SetAudioConfig sets the AAC AudioSpecificConfig. A change after
// publishing starts a new stream session at the next keyframe.
func (s *Session) SetAudioConfig(asc mpeg4audio.AudioSpecificConfig) error {
	t, err := AudioTrack(asc)
	if err != nil {
		return Rejectf(ResultError, "invalid aac config: %w", err)
	}
	s.audioDeclared = true
	if s.audio != nil && bytes.Equal(s.audio.AudioConfig, t.AudioConfig) {
		return nil
	}
	s.audio = t
	if s.pub != nil {
		s.restartAudio = true
	}
	return nil
}

// WriteVideo writes one video access unit (NAL units without start codes
// or length prefixes) with source PTS/DTS in 90 kHz ticks, received at
// wall. The NAL units are copied.
func (s *Session) WriteVideo(pts, dts int64, au [][]byte, wall time.Time) error {
	if s.codec == "" {
		return errors.New("video data before its codec is known")
	}
	var key bool
	var have [naluAUD + 1]bool
	size, n := 0, 0
	for _, nalu := range au {
		if len(nalu) == 0 {
			continue
		}
		role := classifyNALU(s.codec, nalu)
		switch role {
		case naluAUD:
			continue
		case naluVPS:
			s.setParam(&s.vps, nalu, true)
		case naluSPS:
			s.setParam(&s.sps, nalu, true)
		case naluPPS:
			s.setParam(&s.pps, nalu, false)
		case naluKey:
			key = true
		}
		have[role] = true
		size += len(nalu)
		n++
	}
	if n == 0 {
		return nil
	}
	// A keyframe always carries its parameter sets in front, so every
	// keyframe is an entry point for a reader that joins there.
	var params [][]byte
	if key && s.sps != nil && s.pps != nil && !(have[naluSPS] && have[naluPPS] && (have[naluVPS] || s.codec != media.CodecH265)) {
		if s.codec == media.CodecH265 && s.vps != nil {
			params = append(params, s.vps)
		}
		params = append(params, s.sps, s.pps)
	}
	buf := make([]byte, 0, size+len(s.vps)+len(s.sps)+len(s.pps))
	nalus := make([][]byte, 0, n+len(params))
	add := func(b []byte) {
		start := len(buf)
		buf = append(buf, b...)
		nalus = append(nalus, buf[start:len(buf):len(buf)])
	}
	for _, p := range params {
		add(p)
	}
	for _, nalu := range au {
		if len(nalu) == 0 {
			continue
		}
		switch classifyNALU(s.codec, nalu) {
		case naluAUD:
			continue
		case naluVPS, naluSPS, naluPPS:
			if params != nil {
				continue // already in front
			}
		}
		add(nalu)
	}
	return s.write(media.Unit{Kind: media.KindVideo, PTS: pts, DTS: dts, Key: key, NALUs: nalus, Wall: wallOrNow(wall)})
}

// WriteAudio writes one raw AAC frame (no ADTS header) with source PTS in
// 90 kHz ticks. Frames before the audio config is known are dropped. The
// frame is copied.
func (s *Session) WriteAudio(pts int64, frame []byte, wall time.Time) error {
	s.audioDeclared = true
	if s.audio == nil || len(frame) == 0 {
		return nil
	}
	return s.write(media.Unit{Kind: media.KindAudio, PTS: pts, DTS: pts, Key: true, Audio: clone(frame), Wall: wallOrNow(wall)})
}

// Close ends the publisher session, if any. Readers see EventEnd.
func (s *Session) Close() {
	if s.closed {
		return
	}
	s.closed = true
	if s.pub != nil {
		s.pub.Close()
		s.pub = nil
	}
	if s.published {
		s.cfg.Metrics.Active.WithLabelValues(s.cfg.Protocol).Dec()
	}
	s.pending = nil
}

func (s *Session) write(u media.Unit) error {
	if s.closed {
		return errors.New("session closed")
	}
	if s.pub != nil {
		k := u.Kind
		if k == media.KindVideo && u.Key {
			reason := ""
			switch {
			case s.restartVideo:
				reason = "video parameters changed"
			case s.restartAudio:
				reason = "audio config changed"
			case s.lastSet[k] && u.DTS <= s.last[k]:
				reason = fmt.Sprintf("timestamps went back %v", media.Duration(s.last[k]-u.DTS))
			}
			if reason != "" {
				s.log.Info("publisher session restarts", "channel", s.cfg.Target.Channel, "remote", s.cfg.Remote, "reason", reason)
				s.pub.Close()
				s.pub = nil
				s.lastSet = [3]bool{}
				return s.wait(u)
			}
		}
		return s.writePublished(u)
	}
	return s.wait(u)
}

// writePublished hands u to the publisher, dropping units that would make
// a track go back in time or that belong to a session not started yet.
func (s *Session) writePublished(u media.Unit) error {
	k := u.Kind
	switch {
	case k == media.KindVideo && s.restartVideo && !u.Key:
		return nil // needs the new parameters: wait for the keyframe
	case k == media.KindAudio && (s.pubAudio == nil || !bytes.Equal(s.pubAudio.AudioConfig, s.audio.AudioConfig)):
		return nil // the published session has no such audio track
	case s.lastSet[k] && u.DTS <= s.last[k]:
		s.backwards++
		return nil
	}
	s.last[k], s.lastSet[k] = u.DTS, true
	if err := s.pub.Write(u); err != nil {
		return Rejectf(ResultError, "write to channel %s: %w", s.cfg.Target.Channel, err)
	}
	return nil
}

// wait handles a unit before publishing: it drops what precedes the first
// keyframe, buffers from there, and publishes once the tracks are complete
// or fails once the bound passes.
func (s *Session) wait(u media.Unit) error {
	k := u.Kind
	if !s.keyed && k == media.KindVideo && u.Key {
		// The bound restarts at the keyframe: from here it limits the
		// buffer.
		s.keyed = true
		s.pending = s.pending[:0]
		s.waited = 0
		s.firstSet = [3]bool{}
	}
	s.waited++
	if !s.firstSet[k] {
		s.first[k], s.firstSet[k] = u.DTS, true
	}
	over := s.waited > s.cfg.MaxUnits || u.DTS-s.first[k] > media.Ticks(s.cfg.MaxWait)
	if !s.keyed {
		if over {
			return Reject(ResultNoKeyframe, fmt.Errorf("%w within %v of media (%d units)", ErrNoKeyframe, s.cfg.MaxWait, s.waited))
		}
		return nil // nothing can start before a keyframe
	}
	s.pending = append(s.pending, u)
	videoReady := s.codec != "" && s.sps != nil && s.pps != nil && (s.codec != media.CodecH265 || s.vps != nil)
	switch {
	case videoReady && (!s.audioDeclared || s.audio != nil):
		return s.publish()
	case over && videoReady:
		s.log.Warn("audio config never came; publishing video only", "channel", s.cfg.Target.Channel, "remote", s.cfg.Remote, "waited", s.cfg.MaxWait)
		return s.publish()
	case over:
		return Reject(ResultNoKeyframe, fmt.Errorf("%w: keyframe without parameter sets for %v of media", ErrNoKeyframe, s.cfg.MaxWait))
	}
	return nil
}

func (s *Session) publish() error {
	vt, err := videoTrack(s.codec, s.vps, s.sps, s.pps, s.fpsHint)
	if err != nil {
		return Rejectf(ResultError, "invalid video parameters: %w", err)
	}
	var at *media.Track
	if s.audio != nil {
		at = cloneTrack(s.audio)
	}
	pub, err := s.cfg.Target.Stream.PublishInput(s.cfg.Target.In(), s.source, vt, at)
	if err != nil {
		if errors.Is(err, stream.ErrBusy) {
			return Reject(ResultBusy, fmt.Errorf("channel %s, %s input: %w", s.cfg.Target.Channel, s.cfg.Target.In(), err))
		}
		return Rejectf(ResultError, "publish to channel %s: %w", s.cfg.Target.Channel, err)
	}
	s.pub, s.pubVideo, s.pubAudio = pub, vt, at
	s.restartVideo, s.restartAudio = false, false
	if !s.published {
		s.published = true
		s.cfg.Metrics.Count(s.cfg.Protocol, ResultAccepted)
		s.cfg.Metrics.Active.WithLabelValues(s.cfg.Protocol).Inc()
		attrs := []any{"channel", s.cfg.Target.Channel, "remote", s.cfg.Remote, "video", fmt.Sprintf("%s %dx%d %.3gfps", vt.Codec, vt.Width, vt.Height, vt.FPS)}
		if at != nil {
			attrs = append(attrs, "audio", fmt.Sprintf("%s %dHz %dch", at.Codec, at.SampleRate, at.Channels))
		}
		s.log.Info("publish started", attrs...)
	}
	pending := s.pending
	s.pending, s.keyed, s.waited, s.firstSet = nil, false, 0, [3]bool{}
	for _, u := range pending {
		if err := s.writePublished(u); err != nil {
			return err
		}
	}
	return nil
}

func cloneTrack(t *media.Track) *media.Track {
	c := *t
	c.AudioConfig = clone(t.AudioConfig)
	return &c
}

func wallOrNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}
