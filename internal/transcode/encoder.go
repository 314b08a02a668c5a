package transcode

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	mcodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"onair/internal/media"
	"onair/internal/proc"
)

// encoder is one ffmpeg run within a session.
type encoder struct {
	s     *session
	proc  *proc.Process
	bw    *bufio.Writer
	tw    *mpegts.Writer
	track *mpegts.Track
	// shift maps channel time to the timeline written to ffmpeg:
	// fed = channel - shift, with shift = (grid boundary) - pad.
	shift int64
	h265  bool

	readers     sync.WaitGroup
	readersDone chan struct{}
	failed      chan struct{} // closed by the first fail
	failOnce    sync.Once
	mu          sync.Mutex
	failErr     error
	// ending is set when the run is being ended on purpose (session end,
	// cancel); outputs reaching EOF otherwise mean ffmpeg failed.
	ending atomic.Bool
}

// encoderArgs returns the ffmpeg arguments for a run starting at first
// (a keyframe) and the shift between channel time and the timeline fed to
// ffmpeg (fed = channel - shift).
func (s *session) encoderArgs(first *media.Unit) (Args, int64) {
	cfg := s.p.cfg
	d := cfg.Grid.SegmentTicks()
	base := floorDiv(first.PTS, d) * d
	// pad keeps fed timestamps (and the TS PCR, 0.1 s before DTS) positive
	// even for a source with B-frames; a whole number of segments keeps
	// boundaries at multiples of D on the fed timeline.
	pad := d * ceilDiv(media.Timescale, d)
	shift := base - pad
	a := Args{
		Source:     *s.info.Video,
		Renditions: s.ladder,
		Segment:    cfg.Grid.Segment,
		FirstPTS:   first.PTS - shift,
		LowLatency: cfg.LowLatency,
		Threads:    cfg.Threads,
	}
	if first.DTS == s.info.Mapping.Anchor {
		// The session's first keyframe: output starts at the anchor.
		a.StartPTS = s.info.Mapping.Anchor - shift
	} else {
		// A restart, or a reader that joined late: resume exactly at the
		// next segment boundary.
		a.StartPTS = ceilDiv(first.PTS, d)*d - shift
	}
	return a, shift
}

// makePipes returns n pipes as read ends and write ends.
func makePipes(n int) (rs, ws []*os.File, err error) {
	rs, ws = make([]*os.File, n), make([]*os.File, n)
	for i := range n {
		if rs[i], ws[i], err = os.Pipe(); err != nil {
			closeFiles(rs)
			closeFiles(ws)
			return nil, nil, fmt.Errorf("output pipe: %w", err)
		}
	}
	return rs, ws, nil
}

// startEncoder starts ffmpeg for the frames from first (a keyframe) on,
// with one goroutine reading each rendition's pipe.
func (s *session) startEncoder(ctx context.Context, first *media.Unit) (*encoder, error) {
	p := s.p
	a, shift := s.encoderArgs(first)
	rs, ws, err := makePipes(len(s.ladder))
	if err != nil {
		return nil, err
	}
	argv := BuildArgs(a)
	p.log.Debug("starting ffmpeg", "seq", s.info.ID, "argv", argv)
	pr, err := proc.Start(ctx, proc.Config{
		Path:       p.cfg.FFmpeg,
		Args:       argv,
		Stdin:      true,
		ExtraFiles: ws, // closed in the parent by Start
		OnStderr:   func(line string) { p.log.Debug("ffmpeg", "seq", s.info.ID, "line", line) },
		Grace:      2 * time.Second,
	})
	if err != nil {
		closeFiles(rs)
		return nil, fmt.Errorf("start ffmpeg: %w", err)
	}
	e := &encoder{
		s:           s,
		proc:        pr,
		bw:          bufio.NewWriterSize(pr.Stdin(), 64<<10),
		shift:       shift,
		h265:        s.info.Video.Codec == media.CodecH265,
		readersDone: make(chan struct{}),
		failed:      make(chan struct{}),
	}
	var codec mcodecs.Codec = &mcodecs.H264{}
	if e.h265 {
		codec = &mcodecs.H265{}
	}
	e.track = &mpegts.Track{Codec: codec}
	e.tw = &mpegts.Writer{W: e.bw, Tracks: []*mpegts.Track{e.track}}
	if err := e.tw.Initialize(); err != nil {
		closeFiles(rs)
		_ = pr.Stop()
		return nil, fmt.Errorf("mpeg-ts writer: %w", err)
	}
	for i, r := range rs {
		out := newRenditionOutput(e, i, a)
		e.readers.Go(func() {
			if err := out.run(r); err != nil {
				e.fail(fmt.Errorf("rendition %s: %w", s.ladder[i].Name, err))
			}
		})
	}
	go func() {
		e.readers.Wait()
		close(e.readersDone)
	}()
	p.log.Info("ffmpeg started", "seq", s.info.ID, "pid", pr.Pid(), "renditions", len(s.ladder), "start_pts", a.StartPTS+shift)
	return e, nil
}

// feed writes queued frames to ffmpeg until the session ends, ctx ends,
// or the run fails.
func (e *encoder) feed(ctx context.Context, first *media.Unit) outcome {
	if err := e.write(first); err != nil {
		return e.writeFailed(err)
	}
	for {
		select {
		case u, ok := <-e.s.queue:
			if !ok {
				return outcomeEnd
			}
			if err := e.write(u); err != nil {
				if ctx.Err() != nil {
					return outcomeCanceled
				}
				return e.writeFailed(err)
			}
		case <-e.failed:
			return outcomeFailed
		case <-e.proc.Done():
			return outcomeFailed
		case <-ctx.Done():
			return outcomeCanceled
		}
	}
}

// writeFailed records a failed write to ffmpeg's stdin. Usually ffmpeg has
// just died: give its exit a moment to be collected so the report names
// the real cause.
func (e *encoder) writeFailed(err error) outcome {
	e.fail(fmt.Errorf("write to ffmpeg: %w", err))
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-e.proc.Done():
	case <-t.C:
	}
	return outcomeFailed
}

// stallTimeout bounds one write to ffmpeg's stdin: an ffmpeg that stops
// reading for this long is treated as failed (and restarted) rather than
// blocking the session forever.
const stallTimeout = 10 * time.Second

// write sends one frame, with parameter sets added to keyframes that lack
// them (RTMP carries them out of band; ffmpeg's decoder needs them
// in-band).
func (e *encoder) write(u *media.Unit) error {
	au := u.NALUs
	if len(au) == 0 {
		return nil
	}
	if d, ok := e.proc.Stdin().(interface{ SetWriteDeadline(time.Time) error }); ok {
		_ = d.SetWriteDeadline(time.Now().Add(stallTimeout))
	}
	if u.Key {
		au = withParameterSets(au, e.s.info.Video, e.h265)
	}
	pts, dts := u.PTS-e.shift, u.DTS-e.shift
	var err error
	if e.h265 {
		err = e.tw.WriteH265(e.track, pts, dts, au)
	} else {
		err = e.tw.WriteH264(e.track, pts, dts, au)
	}
	if err != nil {
		return err
	}
	return e.bw.Flush()
}

// fail records the first failure of the run and wakes feed.
func (e *encoder) fail(err error) {
	e.failOnce.Do(func() {
		e.mu.Lock()
		e.failErr = err
		e.mu.Unlock()
		close(e.failed)
	})
}

func (e *encoder) failure() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failErr
}

// finish ends a run at the end of a session: ffmpeg gets EOF on stdin and
// has drainTimeout to flush every rendition before it is stopped.
func (e *encoder) finish(drainTimeout time.Duration) {
	e.ending.Store(true)
	p := e.s.p
	// Bounded by the write deadline; a failure shows as ffmpeg's exit
	// status below.
	_ = e.bw.Flush()
	_ = e.proc.Stdin().Close()
	t := time.NewTimer(drainTimeout)
	defer t.Stop()
	drained := false
	select {
	case <-e.readersDone:
		drained = true
		// Outputs are at EOF: ffmpeg is exiting; let it.
		select {
		case <-e.proc.Done():
		case <-t.C:
		}
	case <-t.C:
	}
	exitedAlone := closed(e.proc.Done())
	err := e.proc.Stop()
	e.waitReaders()
	switch {
	case !drained:
		p.log.Warn("ffmpeg did not finish its outputs in time; stopped it", "seq", e.s.info.ID, "timeout", drainTimeout)
	case exitedAlone && err != nil:
		p.log.Warn("ffmpeg exited with an error at session end", "seq", e.s.info.ID, "err", err)
	}
	p.setState(StateIdle, 0)
}

// kill stops ffmpeg at once (the process context is already canceled,
// which started the stop) and waits for the readers.
func (e *encoder) kill() {
	e.ending.Store(true)
	_ = e.proc.Stop()
	e.waitReaders()
	e.s.p.setState(StateIdle, 0)
}

func (e *encoder) waitReaders() { <-e.readersDone }

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		if f != nil {
			_ = f.Close()
		}
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }
