package edge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxComparedPlaylist bounds a media playlist read whole to compare
// upstreams; a larger one is passed on unexamined.
const maxComparedPlaylist = 4 << 20

// checkManifest examines a 200 media playlist when the group has more
// than one upstream: it reads the body whole, records the answering
// upstream's position for the channel and, when that position has stood
// still beyond its limit, asks the other upstreams for the same playlist.
// It returns the response for the fill: resp with its body buffered, or a
// newer answer from another upstream (resp then closed).
func (g *group) checkManifest(ctx context.Context, t target, resp *upstreamResponse, headTimeout time.Duration) *upstreamResponse {
	if t.kind != kindManifest || resp.StatusCode != http.StatusOK || g.size() < 2 {
		return resp
	}
	channel, ok := channelOf(t.key)
	if !ok {
		return resp
	}
	body, complete, err := g.readPlaylist(resp)
	resp.buffer(body, complete, err)
	if err != nil || !complete {
		return resp
	}
	pos, ok := playlistPosition(body)
	if !ok {
		return resp
	}
	chk := g.manifests.observe(resp.upstream, channel, t.key, t.blocking, true, pos, targetDuration(body), g.now())
	if !chk.due {
		return resp
	}
	if alt := g.crossCheck(ctx, t, channel, resp.upstream, pos, chk, headTimeout); alt != nil {
		resp.close()
		return alt
	}
	return resp
}

// crossCheck asks the other fresh upstreams, in order, for t; the first
// whose playlist is ahead of pos is returned (body buffered) and from is
// marked stale for channel. nil: none is ahead.
func (g *group) crossCheck(ctx context.Context, t target, channel string, from *upstream, pos position, chk feedCheck, headTimeout time.Duration) *upstreamResponse {
	for _, a := range g.alternates(channel, from) {
		ar, err := g.try(ctx, a, t, headTimeout, nil)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			continue
		}
		if ar.StatusCode >= 500 {
			g.markDown(a, fmt.Errorf("status %d", ar.StatusCode))
		}
		if ar.StatusCode != http.StatusOK {
			ar.close()
			continue
		}
		body, complete, err := g.readPlaylist(ar)
		apos, ok := playlistPosition(body)
		if err != nil || !complete || !ok {
			ar.close()
			continue
		}
		g.manifests.observe(a, channel, t.key, false, true, apos, targetDuration(body), g.now())
		if !apos.after(pos) {
			ar.close()
			continue
		}
		g.manifests.markStale(from, channel, a, fmt.Sprintf("newest %s unchanged for %v (limit %v); %s has %s",
			pos, chk.unchanged.Round(time.Millisecond), chk.limit, a.base, apos))
		ar.buffer(body, true, nil)
		return ar
	}
	return nil
}

// precheck runs before a blocking playlist reload of channel: when the
// upstream its requests go to first has stood still beyond its limit
// (blocking reloads to a frozen upstream would only hang), the channel's
// last plain playlist is fetched, which compares the upstreams and may
// mark that one stale before the reload is sent.
func (g *group) precheck(ctx context.Context, channel string) {
	if g.size() < 2 {
		return
	}
	cands := g.candidatesFor(channel)
	if len(cands) == 0 {
		return
	}
	key, ok := g.manifests.due(cands[0], channel, g.now())
	if !ok {
		return
	}
	resp, err := g.fetch(ctx, targetOf(key), g.cfg.UpstreamTimeout)
	if err == nil {
		resp.close()
	}
}

// targetOf rebuilds the target of a stored non-blocking playlist key.
func targetOf(key string) target { return target{key: key, kind: kindManifest} }

// probeStale asks every upstream stale for a channel for the channel's
// playlist once; observe clears the mark when it moves again.
func (g *group) probeStale(ctx context.Context) {
	for _, p := range g.manifests.probes(g.now()) {
		if !g.member(p.u) {
			continue
		}
		body, err := g.probePlaylist(ctx, p.u, p.target)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			g.log.Debug("stale upstream probe failed", "upstream", p.u.base, "channel", p.channel, "err", err)
			continue
		}
		if pos, ok := playlistPosition(body); ok {
			g.manifests.observe(p.u, p.channel, p.target, false, false, pos, targetDuration(body), g.now())
		}
	}
}

// member reports whether u is still in the group (Reconfigure may have
// removed it).
func (g *group) member(u *upstream) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, v := range g.ups {
		if v == u {
			return true
		}
	}
	return false
}

// probePlaylist GETs target from u within the probe timeout and returns a
// 200's body.
func (g *group) probePlaylist(ctx context.Context, u *upstream, target string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, min(g.cfg.UpstreamTimeout, 5*time.Second))
	defer cancel()
	resp, err := g.get(ctx, u.base+target, nil)
	if err != nil {
		return nil, fmt.Errorf("probe playlist: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("probe playlist %s%s: status %d", u.base, target, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxComparedPlaylist))
	if err != nil {
		return nil, fmt.Errorf("probe playlist %s%s: %w", u.base, target, err)
	}
	return body, nil
}

// readPlaylist reads up to maxComparedPlaylist of r's body, re-arming the
// stall timer on progress; complete is false when the body is longer.
func (g *group) readPlaylist(r *upstreamResponse) (body []byte, complete bool, err error) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Body.Read(buf)
		if n > 0 {
			r.progress(g.cfg.UpstreamTimeout)
			body = append(body, buf[:n]...)
		}
		if errors.Is(err, io.EOF) {
			return body, true, nil
		}
		if err != nil {
			return body, false, err
		}
		if len(body) > maxComparedPlaylist {
			return body, false, nil
		}
	}
}

// buffer makes r's body the bytes already read: followed by the rest of
// the upstream body when incomplete, or by the read error.
func (r *upstreamResponse) buffer(body []byte, complete bool, err error) {
	var rest io.Reader = r.Body
	switch {
	case err != nil:
		rest = errReader{err}
	case complete:
		rest = nil
		r.ContentLength = int64(len(body))
	}
	src := io.Reader(bytes.NewReader(body))
	if rest != nil {
		src = io.MultiReader(src, rest)
	}
	r.Body = readCloser{src, r.Body}
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
