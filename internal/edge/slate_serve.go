package edge

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// labelSlate is the cache label of a slate playlist or segment.
const labelSlate = "slate"

// playlistIdle is how long the slate state of a media playlist nobody
// asks for is kept.
const playlistIdle = 10 * time.Minute

// run renders slate tracks and forgets idle playlists until ctx ends.
func (s *slates) run(ctx context.Context, warn func(msg string, args ...any)) {
	go func() {
		tick := time.NewTicker(time.Minute)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				s.sweep(now)
			}
		}
	}()
	s.renderLoop(ctx, warn)
}

// sweep drops the state of playlists idle for playlistIdle.
func (s *slates) sweep(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, at := range s.used {
		if now.Sub(at) > playlistIdle {
			delete(s.used, p)
			delete(s.playlists, p)
		}
	}
}

// segmentDuration is the playlist's segment duration: its newest
// complete segment's, to the millisecond, else the target duration.
func (p *mediaPlaylist) segmentDuration() time.Duration {
	if n := len(p.entries); n > 0 {
		return p.entries[n-1].dur.Round(time.Millisecond)
	}
	return p.target
}

// observe takes a media playlist the upstream answered 200 with and
// returns what viewers get: body itself while the playlist has no slate
// history, else the rewrite that keeps its slate segments and numbering.
func (s *slates) observe(p, dir string, body []byte, now time.Time) []byte {
	pl, err := parseMediaPlaylist(body)
	if err != nil {
		return body
	}
	segDur := pl.segmentDuration()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used[p] = now
	if r := s.dirs[dir]; r != nil && segDur > 0 && r.segDur != segDur {
		r.segDur = segDur
		s.wantLocked(r)
	}
	st := s.playlists[p]
	if st == nil {
		st = &playlistState{}
		s.playlists[p] = st
	}
	// A fill that started earlier may end after a newer one: a playlist
	// older than the newest seen (within a few segments' time, after
	// which a restarted numbering is believed) does not replace it.
	if st.base == nil || pl.lastComplete() >= st.base.lastComplete() || now.Sub(st.baseAt) > 3*pl.target {
		st.base, st.baseAt = pl, now
	}
	if len(st.episodes) == 0 {
		return body
	}
	st.advance(now, segDur, true)
	return st.build(segDur)
}

// synthesize returns the slate playlist of p at now. start opens an
// episode (the circuit is open); without it only an episode already open
// is continued. ok is false when p has no upstream playlist to continue
// or no rendered slate yet.
func (s *slates) synthesize(p, dir string, now time.Time, start bool) (body []byte, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.playlists[p]
	r := s.dirs[dir]
	if st == nil || st.base == nil || r == nil || s.trackForLocked(dir) == nil {
		return nil, false
	}
	switch {
	case start:
		st.startEpisode(now, r.segDur)
	case st.open() == nil:
		return nil, false
	}
	st.advance(now, r.segDur, false)
	s.used[p] = now
	return st.build(r.segDur), true
}

// availableAt is when slate segment msn of p exists (zero: no growing
// episode).
func (s *slates) availableAt(p, dir string, msn int64) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, r := s.playlists[p], s.dirs[dir]
	if st == nil || r == nil {
		return time.Time{}
	}
	return st.availableAt(msn, r.segDur)
}

// serveSlateObject answers a slate init or segment request this edge
// can make itself; false means the request is not one.
func (e *Edge) serveSlateObject(w http.ResponseWriter, r *http.Request, t target) bool {
	p, _, _ := strings.Cut(t.key, "?")
	body, ok := e.slates.object(p)
	if !ok {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", "video/mp4")
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("X-Cache", strings.ToUpper(labelSlate))
	h.Set("Accept-Ranges", "bytes")
	status, start, end, ok := resolveRange(w, r, h, int64(len(body)))
	if !ok {
		return true
	}
	h.Set("Content-Length", strconv.Itoa(int(end-start)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		n, _ := w.Write(body[start:end])
		e.metrics.bytes.WithLabelValues("out").Add(float64(n))
	}
	return true
}

// serveSlatePlaylist answers a media playlist request from the slate
// while the circuit is open. A blocking reload for a slate segment that
// is due within BlockTimeout is held until it exists. false means there
// is nothing to continue (no upstream playlist seen, no slate yet).
func (e *Edge) serveSlatePlaylist(w http.ResponseWriter, r *http.Request, t target) bool {
	p, dir, ok := mediaPlaylistPath(t.key)
	if !ok {
		return false
	}
	body, ok := e.slates.synthesize(p, dir, e.now(), true)
	if !ok {
		return false
	}
	if msn, ok := blockingMSN(t); ok {
		at := e.slates.availableAt(p, dir, msn)
		if wait := at.Sub(e.now()); !at.IsZero() && wait > 0 && wait <= e.cfg.BlockTimeout {
			timer := time.NewTimer(wait)
			select {
			case <-r.Context().Done():
				timer.Stop()
				return true
			case <-timer.C:
			}
			body, _ = e.slates.synthesize(p, dir, e.now(), true)
		}
	}
	writeSlatePlaylist(w, r, body, labelSlate)
	e.metrics.bytes.WithLabelValues("out").Add(float64(len(body)))
	return true
}

// writeSlatePlaylist writes a rewritten playlist that no upstream made.
func writeSlatePlaylist(w http.ResponseWriter, r *http.Request, body []byte, label string) {
	h := w.Header()
	h.Set("Content-Type", "application/vnd.apple.mpegurl")
	h.Set("Cache-Control", "public, max-age=1")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("X-Cache", strings.ToUpper(label))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// blockingMSN returns a blocking reload's _HLS_msn.
func blockingMSN(t target) (int64, bool) {
	if !t.blocking {
		return 0, false
	}
	_, query, _ := strings.Cut(t.key, "?")
	q, _ := url.ParseQuery(query)
	n, err := strconv.ParseInt(q.Get("_HLS_msn"), 10, 64)
	return n, err == nil && n >= 0
}

// parseTarget parses a stored target key; an unparsable one becomes "/".
func parseTarget(key string) *url.URL {
	u, err := url.ParseRequestURI(key)
	if err != nil {
		return &url.URL{Path: "/"}
	}
	return u
}

// learn feeds the slate state from a complete 200 response: renditions
// from a multivariant playlist, sample rates from init segments.
func (s *slates) learn(t target, body []byte) {
	p, _, _ := strings.Cut(t.key, "?")
	switch {
	case t.kind == kindManifest && strings.HasSuffix(p, ".m3u8") && bytes.Contains(body, []byte("#EXT-X-STREAM-INF")):
		s.learnMaster(p, body)
	case t.kind == kindObject && strings.HasSuffix(p, ".mp4"):
		s.learnInit(p, body)
	}
}

// maxPlaylistBytes bounds a media playlist the edge reads to rewrite.
const maxPlaylistBytes = 4 << 20

// fillMediaPlaylist completes a fill of an onair media playlist: the
// body is read whole, so that a playlist with slate history reaches
// viewers rewritten (and is cached so), and so that an error answer for
// a playlist whose slate episode is still open becomes the slate
// playlist instead.
func (e *Edge) fillMediaPlaylist(f *fill, resp *upstreamResponse, p, dir string) {
	var body []byte
	err := e.readBody(resp, func(p []byte) error {
		if body = append(body, p...); len(body) > maxPlaylistBytes {
			return fmt.Errorf("playlist larger than %d bytes", maxPlaylistBytes)
		}
		return nil
	})
	if err != nil {
		e.endFill(f, nil, err)
		return
	}
	if resp.ContentLength >= 0 && int64(len(body)) != resp.ContentLength {
		e.endFill(f, nil, resp.readErr(io.ErrUnexpectedEOF))
		return
	}
	now := e.now()
	if resp.StatusCode != http.StatusOK {
		if slateBody, ok := e.slates.synthesize(p, dir, now, false); ok {
			header := http.Header{
				"Content-Type":                {"application/vnd.apple.mpegurl"},
				"Cache-Control":               {"public, max-age=1"},
				"Access-Control-Allow-Origin": {"*"},
			}
			f.setHead(http.StatusOK, header, 0, int64(len(slateBody)))
			f.write(slateBody)
			e.endFill(f, nil, nil)
			return
		}
		if resp.StatusCode >= 500 && f.stale != nil && f.stale.canServeOnError(now) {
			e.endFill(f, nil, fmt.Errorf("%s answered %d", resp.upstream.base, resp.StatusCode))
			return
		}
	}
	header := forwardHeader(resp.Header)
	fresh := policy(resp.StatusCode, resp.Header, kindManifest)
	out := body
	if resp.StatusCode == http.StatusOK {
		e.ages.observe(f.target.key, body, now)
		out = e.slates.observe(p, dir, body, now)
	}
	f.setHead(resp.StatusCode, header, fresh.age, int64(len(out)))
	f.write(out)
	var obj *object
	if fresh.store {
		obj = &object{
			key: f.target.key, status: resp.StatusCode, header: header, body: out,
			stored: now, fresh: fresh, kind: kindManifest, upstream: resp.upstream.base,
			size: objectSize(f.target.key, header, out),
		}
	}
	e.endFill(f, obj, nil)
}

// serveLastPlaylist answers a media playlist whose fill failed with the
// newest playlist the edge has for it (the slate one while an episode is
// open): a playlist that does not advance for a moment makes a player
// retry, an error makes it report one.
func (e *Edge) serveLastPlaylist(w http.ResponseWriter, r *http.Request, t target) bool {
	if e.slates == nil {
		return false
	}
	p, dir, ok := mediaPlaylistPath(t.key)
	if !ok {
		return false
	}
	body, ok := e.slates.last(p, dir, e.now())
	if !ok {
		return false
	}
	writeSlatePlaylist(w, r, body, labelStale)
	return true
}

// last returns the newest playlist of p for viewers: the slate one while
// an episode is open, else the newest upstream one (rewritten if it has
// slate history).
func (s *slates) last(p, dir string, now time.Time) ([]byte, bool) {
	if body, ok := s.synthesize(p, dir, now, false); ok {
		return body, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.playlists[p]
	if st == nil || st.base == nil {
		return nil, false
	}
	if len(st.episodes) > 0 {
		return st.build(st.base.segmentDuration()), true
	}
	b := st.base
	return b.marshal(b.entries, b.seq, b.dseq, true), true
}
