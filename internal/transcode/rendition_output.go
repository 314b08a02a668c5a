package transcode

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	mcodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"onair/internal/media"
)

// renditionOutput reads one rendition's MPEG-TS from its ffmpeg pipe,
// restores channel-clock timestamps and Wall, and writes units to the
// rendition's Sink, which it opens at the first keyframe.
type renditionOutput struct {
	e     *encoder
	idx   int
	r     media.Rendition
	fps   float64
	frame int64 // one output frame in ticks

	hevc     bool
	dec      mpegts.TimeDecoder // unwraps the 33-bit DTS
	firstDTS int64
	started  bool
	sink     *sinkWriter
	skipped  bool // the Sink could not be opened; drain only
}

func newRenditionOutput(e *encoder, idx int, a Args) *renditionOutput {
	r := a.Renditions[idx]
	num, den := frameRate(r, a.Source)
	return &renditionOutput{
		e:     e,
		idx:   idx,
		r:     r,
		fps:   float64(num) / float64(den),
		frame: int64(den) * media.Timescale / int64(num),
	}
}

// run reads until EOF (ffmpeg closed the pipe). It returns an error only
// when the pipe breaks.
func (o *renditionOutput) run(pipe io.ReadCloser) error {
	defer pipe.Close()
	defer o.close()
	tr := &mpegts.Reader{R: bufio.NewReaderSize(pipe, 64<<10)}
	if err := tr.Initialize(); err != nil {
		if isEOF(err) {
			return nil // ffmpeg ended before writing anything
		}
		return fmt.Errorf("read mpeg-ts header: %w", err)
	}
	found := false
	for _, t := range tr.Tracks() {
		switch t.Codec.(type) {
		case *mcodecs.H264:
			tr.OnDataH264(t, o.onAU)
			found = true
		case *mcodecs.H265:
			o.hevc = true
			tr.OnDataH265(t, o.onAU)
			found = true
		}
		if found {
			break
		}
	}
	if !found {
		_, _ = io.Copy(io.Discard, pipe)
		return errors.New("ffmpeg output has no H.264 or H.265 track")
	}
	decodeErrors := 0
	tr.OnDecodeError(func(err error) {
		decodeErrors++
		if decodeErrors == 1 {
			o.e.s.p.log.Warn("bad mpeg-ts from ffmpeg (further errors of this run not logged)", "rendition", o.r.Name, "err", err)
		}
	})
	for {
		if err := tr.Read(); err != nil {
			if isEOF(err) {
				return nil
			}
			return fmt.Errorf("read mpeg-ts: %w", err)
		}
	}
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// onAU handles one access unit; rawPTS and rawDTS are 33-bit MPEG-TS
// timestamps on the fed timeline.
func (o *renditionOutput) onAU(rawPTS, rawDTS int64, au [][]byte) error {
	const mask = 0x1FFFFFFFF
	if !o.started {
		o.started, o.firstDTS = true, rawDTS
	}
	dts := o.firstDTS + o.dec.Decode(rawDTS)
	off := (rawPTS - rawDTS) & mask
	if off > mask/2 {
		off -= mask + 1
	}
	p := o.e.s.p
	u := media.Unit{
		Kind:  media.KindVideo,
		DTS:   dts + o.e.shift,
		PTS:   dts + off + o.e.shift,
		NALUs: au,
	}
	if o.hevc {
		u.Key = h265.IsRandomAccess(au)
	} else {
		u.Key = h264.IsRandomAccess(au)
	}
	if o.skipped {
		return nil
	}
	if o.sink == nil {
		if !u.Key {
			return nil
		}
		t, err := trackFromKeyframe(au, o.hevc, o.fps)
		if err != nil {
			p.log.Warn("cannot open rendition yet", "rendition", o.r.Name, "err", err)
			return nil
		}
		o.sink = p.openSink(Rendition{Name: o.r.Name, Track: t, Bitrate: o.r.Bitrate, Mapping: o.e.s.info.Mapping})
		if o.sink == nil {
			o.skipped = true
			return nil
		}
	}
	// Frames the fps filter duplicated into a gap have no input twin and
	// keep a zero Wall.
	u.Wall = o.e.s.walls.get(u.PTS, o.frame)
	if !o.sink.write(&u) {
		o.skipped = true
		return nil
	}
	p.m.frames.WithLabelValues(o.r.Name).Inc()
	if o.idx == 0 {
		now := time.Now()
		p.outSpeed.observe(now, u.PTS)
		if !u.Wall.IsZero() {
			p.setLatency(now.Sub(u.Wall))
		}
	}
	return nil
}

// close closes the rendition's sink; when ffmpeg failed and the pipeline
// is configured to, it abandons the unfinished segment instead.
func (o *renditionOutput) close() {
	if o.sink == nil {
		return
	}
	if o.e.s.p.cfg.AbortOnFailure && !o.e.ending.Load() {
		o.sink.abort()
	} else {
		o.sink.close()
	}
	o.sink = nil
}
