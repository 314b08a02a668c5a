package edge

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"onair/internal/slate"
)

// SlateConfig sets the picture an open circuit shows. Zero fields take
// the defaults.
type SlateConfig struct {
	// Disabled turns the slate off: an open circuit then answers 503 for
	// what the cache can not serve.
	Disabled bool
	// FFmpeg is the ffmpeg binary that renders the slate. Default "ffmpeg".
	FFmpeg string
	// Image is a picture file shown instead of the text card.
	Image string
	// Text is the card's text. Default slate.DefaultText.
	Text string
}

// Names of the slate objects, next to the rendition's own (the leading
// underscore keeps them out of onair's "{n}.m4s" numbering).
const (
	slateInitName   = "_slate-init.mp4"
	slatePrefix     = "_slate-"
	slateSegmentExt = ".m4s"
)

// rendition is what the edge knows of one rendition directory
// (/live/{channel}/{rendition}/), learned from the multivariant playlist,
// the rendition's media playlists and its init segment.
type rendition struct {
	audio  bool
	video  slate.Video
	sound  slate.Audio
	segDur time.Duration // from the media playlist; 0 until seen
}

// trackKey names a rendered slate track: the same picture serves every
// channel with the same rendition shape.
func (r *rendition) trackKey() string {
	if r.audio {
		return fmt.Sprintf("a/%d/%d/%d", r.sound.SampleRate, r.sound.Channels, r.segDur.Milliseconds())
	}
	return fmt.Sprintf("v/%dx%d/%g/%d", r.video.Width, r.video.Height, r.video.FrameRate, r.segDur.Milliseconds())
}

// renderedTrack is a slate track being rendered, rendered, or failed.
type renderedTrack struct {
	track  *slate.Track
	err    error
	failed time.Time // when err was set: retried after renderRetry
}

const renderRetry = time.Minute

// slates holds the edge's slate state: renditions, rendered tracks and,
// per media playlist, the slate episodes and numbering.
type slates struct {
	cfg     SlateConfig
	metrics *metrics
	queue   chan rendition // shapes to render; owned by renderLoop

	mu        sync.Mutex
	dirs      map[string]*rendition     // rendition directory ("/live/c/r/") → rendition
	tracks    map[string]*renderedTrack // trackKey → track
	playlists map[string]*playlistState // media playlist path → state
	used      map[string]time.Time      // playlist path → last use, for expiry
}

func newSlates(cfg SlateConfig, m *metrics) *slates {
	return &slates{
		cfg: cfg, metrics: m, queue: make(chan rendition, 64),
		dirs: make(map[string]*rendition), tracks: make(map[string]*renderedTrack),
		playlists: make(map[string]*playlistState), used: make(map[string]time.Time),
	}
}

// mediaPlaylistPath returns the path of an onair media playlist target
// and its rendition directory.
func mediaPlaylistPath(key string) (p, dir string, ok bool) {
	if _, ok := channelOf(key); !ok {
		return "", "", false
	}
	p, _, _ = strings.Cut(key, "?")
	return p, p[:strings.LastIndexByte(p, '/')+1], true
}

// learnMaster records the renditions a multivariant playlist at
// masterPath announces.
func (s *slates) learnMaster(masterPath string, body []byte) {
	base := masterPath[:strings.LastIndexByte(masterPath, '/')+1]
	resolve := func(uri string) (string, bool) {
		u, err := url.Parse(uri)
		if err != nil || u.IsAbs() || u.Host != "" {
			return "", false
		}
		p := path.Clean(path.Join(base, u.Path))
		return p[:strings.LastIndexByte(p, '/')+1], true
	}
	found := map[string]*rendition{}
	var pending *rendition
	for line := range strings.SplitSeq(string(body), "\n") {
		line = strings.TrimSpace(line)
		tag, _, _ := strings.Cut(line, ":")
		switch {
		case tag == "#EXT-X-STREAM-INF":
			r := &rendition{video: slate.Video{FrameRate: 30}}
			if res, _ := attribute(line, "RESOLUTION"); res != "" {
				w, h, _ := strings.Cut(res, "x")
				r.video.Width, _ = strconv.Atoi(w)
				r.video.Height, _ = strconv.Atoi(h)
			}
			if fr, err := strconv.ParseFloat(attrValue(line, "FRAME-RATE"), 64); err == nil && fr >= 1 && fr <= 120 {
				r.video.FrameRate = math.Round(fr*1000) / 1000
			}
			pending = r
			if r.video.Width <= 0 || r.video.Height <= 0 {
				pending = nil // audio-only variants and unknown sizes get no slate
			}
		case tag == "#EXT-X-MEDIA" && attrValue(line, "TYPE") == "AUDIO":
			uri, ok := attribute(line, "URI")
			if !ok {
				continue
			}
			r := &rendition{audio: true, sound: slate.Audio{SampleRate: 48000, Channels: 2}}
			if ch, _ := attribute(line, "CHANNELS"); ch != "" {
				n, _, _ := strings.Cut(ch, "/")
				if c, err := strconv.Atoi(n); err == nil {
					r.sound.Channels = c
				}
			}
			if dir, ok := resolve(uri); ok {
				found[dir] = r
			}
		case line != "" && line[0] != '#' && pending != nil:
			if dir, ok := resolve(line); ok {
				found[dir] = pending
			}
			pending = nil
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for dir, r := range found {
		if old := s.dirs[dir]; old != nil {
			r.segDur = old.segDur
			if old.audio && r.audio {
				r.sound.SampleRate = old.sound.SampleRate
			}
		}
		s.dirs[dir] = r
		s.wantLocked(r)
	}
}

// learnInit takes an audio rendition's sample rate from its init segment.
func (s *slates) learnInit(p string, body []byte) {
	name := p[strings.LastIndexByte(p, '/')+1:]
	if !strings.HasPrefix(name, "init") || !strings.HasSuffix(name, ".mp4") {
		return
	}
	dir := p[:strings.LastIndexByte(p, '/')+1]
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.dirs[dir]
	if r == nil || !r.audio {
		return
	}
	rate, err := slate.InitTimescale(body)
	if err != nil || rate < 8000 || rate > 96000 || int(rate) == r.sound.SampleRate {
		return
	}
	r.sound.SampleRate = int(rate)
	s.wantLocked(r)
}

// wantLocked queues r's track for rendering unless it exists or is
// pending. The caller holds s.mu.
func (s *slates) wantLocked(r *rendition) {
	if r.segDur == 0 {
		return
	}
	key := r.trackKey()
	if t := s.tracks[key]; t != nil && (t.err == nil || time.Since(t.failed) < renderRetry) {
		return
	}
	select {
	case s.queue <- *r:
		s.tracks[key] = &renderedTrack{} // pending
	default: // full: asked again by the next playlist
	}
}

// renderLoop renders queued tracks one at a time until ctx ends.
func (s *slates) renderLoop(ctx context.Context, log func(msg string, args ...any)) {
	for {
		var r rendition
		select {
		case <-ctx.Done():
			return
		case r = <-s.queue:
		}
		key := r.trackKey()
		opts := slate.Options{FFmpeg: s.cfg.FFmpeg, Image: s.cfg.Image, Text: s.cfg.Text, Duration: r.segDur}
		var (
			tr  *slate.Track
			err error
		)
		if r.audio {
			tr, err = slate.RenderAudio(ctx, opts, r.sound)
		} else {
			tr, err = slate.RenderVideo(ctx, opts, r.video)
		}
		result := "ok"
		if err != nil {
			result = "error"
			if ctx.Err() == nil {
				log("slate render failed", "track", key, "err", err)
			}
		}
		s.metrics.slateRenders.WithLabelValues(result).Inc()
		s.mu.Lock()
		s.tracks[key] = &renderedTrack{track: tr, err: err, failed: time.Now()}
		s.mu.Unlock()
	}
}

// trackFor returns the rendered track of a rendition directory, or nil.
// The caller holds s.mu.
func (s *slates) trackForLocked(dir string) *slate.Track {
	r := s.dirs[dir]
	if r == nil || r.segDur == 0 {
		return nil
	}
	if t := s.tracks[r.trackKey()]; t != nil {
		return t.track
	}
	return nil
}

// object returns a slate object's bytes for a request path, if the path
// names one this edge can make.
func (s *slates) object(p string) (body []byte, ok bool) {
	i := strings.LastIndexByte(p, '/')
	dir, name := p[:i+1], p[i+1:]
	if !strings.HasPrefix(name, slatePrefix) {
		return nil, false
	}
	s.mu.Lock()
	tr := s.trackForLocked(dir)
	s.mu.Unlock()
	if tr == nil {
		return nil, false
	}
	if name == slateInitName {
		return tr.Init, true
	}
	num, found := strings.CutSuffix(strings.TrimPrefix(name, slatePrefix), slateSegmentExt)
	n, err := strconv.ParseInt(num, 10, 64)
	if !found || err != nil || n < 0 || n > math.MaxInt64/4 || strconv.FormatInt(n, 10) != num {
		return nil, false
	}
	return tr.Segment(n, uint32(n%math.MaxUint32)+1), true
}

// attrValue is attribute without the ok.
func attrValue(line, name string) string {
	v, _ := attribute(line, name)
	return v
}
