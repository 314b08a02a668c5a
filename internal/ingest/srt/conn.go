package srt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"
	gosrt "github.com/datarhei/gosrt"
	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/ingest"
	"onair/internal/media"
)

// conn is one accepted SRT connection.
type conn struct {
	s       *Server
	sc      gosrt.Conn
	remote  string
	started time.Time
	channel string
	target  ingest.Target
	sess    *ingest.Session

	// Why the connection was closed from our side, if it was.
	stalled   atomic.Bool
	noProgram atomic.Bool
}

// run demuxes the connection's MPEG-TS until it ends and returns why (an
// error wrapping ingest.ErrEnded for a normal end). It never returns nil.
func (c *conn) run(ctx context.Context) error {
	cfg := c.s.cfg
	// gosrt has no read deadlines: watchdogs close the connection instead,
	// which unblocks Read.
	stall := time.AfterFunc(cfg.ReadTimeout, func() {
		c.stalled.Store(true)
		_ = c.sc.Close()
	})
	defer stall.Stop()
	startup := time.AfterFunc(cfg.HandshakeTimeout, func() {
		c.noProgram.Store(true)
		_ = c.sc.Close()
	})
	defer startup.Stop()

	r := &watchReader{r: c.sc, watchdog: stall, timeout: cfg.ReadTimeout, bytes: c.s.metrics.Bytes.WithLabelValues(protocol, c.channel)}
	mr := &mpegts.Reader{R: r}
	if err := mr.Initialize(); err != nil {
		return c.readError(ctx, fmt.Errorf("read mpeg-ts program: %w", err))
	}
	if !startup.Stop() {
		return c.readError(ctx, errors.New("program found too late"))
	}
	c.sess = ingest.NewSession(ingest.SessionConfig{
		Protocol: protocol,
		Remote:   c.remote,
		Target:   c.target,
		Metrics:  c.s.metrics,
		Log:      c.s.log,
		MaxWait:  cfg.MaxWait,
		MaxUnits: cfg.MaxUnits,
	})
	var decodeErrors uint64
	mr.OnDecodeError(func(error) { decodeErrors++ })
	if err := c.setupTracks(mr); err != nil {
		return err
	}
	for {
		if err := mr.Read(); err != nil {
			if decodeErrors > 0 {
				err = fmt.Errorf("%w (%d mpeg-ts decode errors)", err, decodeErrors)
			}
			return c.readError(ctx, err)
		}
	}
}

// setupTracks picks the first H.264/H.265 track and the first AAC track
// and wires them to the session. An audio or video track that cannot be
// carried is refused unless a supported one of the same kind exists;
// data tracks (KLV, subtitles, SCTE-35) are ignored.
func (c *conn) setupTracks(mr *mpegts.Reader) error {
	var video, audio *mpegts.Track
	var badVideo, badAudio string
	for _, t := range mr.Tracks() {
		switch t.Codec.(type) {
		case *tscodecs.H264, *tscodecs.H265:
			if video == nil {
				video = t
			}
		case *tscodecs.MPEG4Audio:
			if audio == nil {
				audio = t
			}
		case *tscodecs.MPEG1Video:
			badVideo = "MPEG-1/2 Video"
		case *tscodecs.MPEG4Video:
			badVideo = "MPEG-4 Part 2 Video"
		case *tscodecs.MPEG1Audio:
			badAudio = "MPEG-1 Audio (MP2/MP3)"
		case *tscodecs.MPEG4AudioLATM:
			badAudio = "AAC in LATM"
		case *tscodecs.AC3:
			badAudio = "AC-3"
		case *tscodecs.EAC3:
			badAudio = "E-AC-3"
		case *tscodecs.Opus:
			badAudio = "Opus"
		}
	}
	switch {
	case video == nil && badVideo != "":
		return ingest.UnsupportedCodec("video", badVideo)
	case video == nil:
		return ingest.Rejectf(ingest.ResultUnsupportedCodec, "no video track (supported: %s)", ingest.SupportedVideo)
	case audio == nil && badAudio != "":
		return ingest.UnsupportedCodec("audio", badAudio)
	}

	// One unwrapper for every track keeps them on one timeline.
	ts := ingest.Unwrapper{Bits: 33}
	onVideo := func(pts, dts int64, au [][]byte) error {
		wall := time.Now()
		return c.sess.WriteVideo(ts.Unwrap(pts), ts.Unwrap(dts), au, wall)
	}
	switch video.Codec.(type) {
	case *tscodecs.H264:
		if err := c.sess.SetVideoCodec(media.CodecH264); err != nil {
			return err
		}
		mr.OnDataH264(video, onVideo)
	case *tscodecs.H265:
		if err := c.sess.SetVideoCodec(media.CodecH265); err != nil {
			return err
		}
		mr.OnDataH265(video, onVideo)
	}
	if audio == nil {
		return nil
	}
	asc := audio.Codec.(*tscodecs.MPEG4Audio).Config
	if err := c.sess.SetAudioConfig(asc); err != nil {
		return err
	}
	samples := int64(1024)
	if asc.FrameLengthFlag {
		samples = 960
	}
	rate := int64(asc.SampleRate)
	mr.OnDataMPEG4Audio(audio, func(pts int64, aus [][]byte) error {
		wall := time.Now()
		base := ts.Unwrap(pts)
		// A PES may carry several ADTS frames; each is its own unit.
		for i, au := range aus {
			if err := c.sess.WriteAudio(base+int64(i)*samples*media.Timescale/rate, au, wall); err != nil {
				return err
			}
		}
		return nil
	})
	return nil
}

// readError classifies why reading ended.
func (c *conn) readError(ctx context.Context, err error) error {
	var rej *ingest.Rejection
	switch {
	case errors.As(err, &rej):
		return err
	case ctx.Err() != nil:
		return fmt.Errorf("%w: server shutting down", ingest.ErrEnded)
	case c.stalled.Load():
		return ingest.Rejectf(ingest.ResultStalled, "no data for %v", c.s.cfg.ReadTimeout)
	case c.noProgram.Load():
		return ingest.Rejectf(ingest.ResultBadHandshake, "no mpeg-ts program with complete tracks within %v", c.s.cfg.HandshakeTimeout)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: publisher disconnected", ingest.ErrEnded)
	}
	return ingest.Rejectf(ingest.ResultError, "mpeg-ts: %w", err)
}

// watchReader counts received bytes and re-arms the stall watchdog on
// every read that returns data.
type watchReader struct {
	r        io.Reader
	watchdog *time.Timer
	timeout  time.Duration
	bytes    prometheus.Counter
}

func (w *watchReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.watchdog.Reset(w.timeout)
		w.bytes.Add(float64(n))
	}
	return n, err
}
