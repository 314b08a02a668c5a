package transcode

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"time"

	"onair/internal/media"
	"onair/internal/stream"
)

// session is one publisher session's state. unit, end and abort are
// called from Run's goroutine only; supervise runs in its own goroutine.
type session struct {
	p      *Pipeline
	info   *stream.Session
	ladder []media.Rendition // empty: no ffmpeg this session
	source *sinkWriter       // nil unless Passthrough
	audio  *sinkWriter       // nil without audio
	walls  *wallMap

	queue  chan *media.Unit // video for ffmpeg; closed by end
	resync bool             // a frame was dropped: skip to the next keyframe
	cancel context.CancelFunc
	done   chan struct{} // closed when supervise returns
}

func (p *Pipeline) startSession(ctx context.Context, info *stream.Session) *session {
	ctx, cancel := context.WithCancel(ctx)
	s := &session{
		p:      p,
		info:   info,
		ladder: media.Fit(p.cfg.Ladder, *info.Video),
		walls:  newWallMap(512),
		queue:  make(chan *media.Unit, p.cfg.QueueFrames),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	p.outSpeed.reset()
	p.inSpeed.reset()
	names := make([]string, len(s.ladder))
	for i, r := range s.ladder {
		names[i] = r.Name
	}
	p.log.Info("session started", "seq", info.ID, "source", info.Source,
		"video", videoDesc(info.Video), "audio", info.Audio != nil, "ladder", names, "anchor", info.Mapping.Anchor)
	if p.cfg.Passthrough {
		s.source = p.openSink(Rendition{Name: media.SourceRendition, Track: *info.Video, Mapping: info.Mapping})
	}
	if info.Audio != nil {
		s.audio = p.openSink(Rendition{Name: media.AudioRendition, Track: *info.Audio, Mapping: info.Mapping})
	}
	_, lookErr := exec.LookPath(p.cfg.FFmpeg)
	switch {
	case len(p.cfg.Ladder) == 0:
		p.log.Info("the ladder is empty; passing the source through only")
		p.setState(StatePassthrough, 0)
	case len(s.ladder) == 0:
		p.log.Warn("no ladder rendition fits the source; passing it through only", "video", videoDesc(info.Video))
		p.setState(StatePassthrough, 0)
	case lookErr != nil:
		const hint = "set transcode.ffmpeg to the path of ffmpeg or install it; until then only source and audio are published"
		p.log.Error("ffmpeg not found; no ladder this session", "ffmpeg", p.cfg.FFmpeg, "err", lookErr, "hint", hint)
		p.setError(fmt.Sprintf("ffmpeg binary %q not found: %v\nhint: %s", p.cfg.FFmpeg, lookErr, hint))
		p.setState(StateFailed, 0)
		s.ladder = nil
	}
	if len(s.ladder) == 0 {
		close(s.done)
		return s
	}
	go s.supervise(ctx)
	return s
}

func videoDesc(t *media.Track) string {
	return fmt.Sprintf("%s %dx%d@%s", t.Codec, t.Width, t.Height, strconv.FormatFloat(t.FPS, 'f', -1, 64))
}

// unit handles one channel-clock unit from the stream.
func (s *session) unit(u *media.Unit) {
	if u.Kind == media.KindAudio {
		if s.audio != nil {
			s.audio.write(u)
		}
		return
	}
	if s.source != nil && s.source.write(u) {
		s.p.m.frames.WithLabelValues(media.SourceRendition).Inc()
	}
	if len(s.ladder) == 0 {
		return
	}
	s.walls.put(u.PTS, u.Wall)
	s.p.inSpeed.observe(time.Now(), u.PTS)
	if s.resync && !u.Key {
		s.p.countDrop()
		return
	}
	select {
	case s.queue <- u:
		s.resync = false
	default:
		// ffmpeg is behind: never block the stream; resume at the next
		// keyframe so the decoder sees a clean stream.
		s.resync = true
		s.p.countDrop()
	}
}

// end finishes the session gracefully: ffmpeg drains its outputs, then
// every Sink is closed.
func (s *session) end() {
	if len(s.ladder) > 0 {
		close(s.queue)
	}
	<-s.done
	s.closeSinks()
	s.cancel()
	s.p.log.Info("session ended", "seq", s.info.ID)
}

// abort stops the session at once (Run is returning).
func (s *session) abort() {
	s.cancel()
	<-s.done
	s.closeSinks()
}

func (s *session) closeSinks() {
	if s.source != nil {
		s.source.close()
	}
	if s.audio != nil {
		s.audio.close()
	}
}

func (p *Pipeline) countDrop() {
	p.mu.Lock()
	p.status.Dropped++
	p.mu.Unlock()
}
