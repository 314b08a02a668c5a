package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strings"
)

// startFill registers and starts a fill for t. The caller holds e.mu.
func (e *Edge) startFill(t target, stale *object, background bool) *fill {
	ctx, cancel := context.WithCancel(context.Background())
	f := newFill(t, stale, background, cancel)
	e.fills[t.key] = f
	go e.runFill(ctx, f)
	return f
}

// runFill fetches f's target from the origin group and streams the body
// into f; a complete response the policy allows is cached.
func (e *Edge) runFill(ctx context.Context, f *fill) {
	defer f.cancel()
	headTimeout := e.cfg.UpstreamTimeout
	if f.target.blocking {
		headTimeout = e.cfg.BlockTimeout
	}
	if f.target.kind == kindManifest {
		e.ages.asked(f.target.key, e.now())
	}
	resp, err := e.group.fetch(ctx, f.target, headTimeout)
	if err != nil {
		if ctx.Err() == nil {
			e.breaker.record(true, "")
		}
		e.endFill(f, nil, err)
		return
	}
	defer resp.close()
	failed := resp.StatusCode >= 500 && !(f.target.blocking && resp.StatusCode == http.StatusServiceUnavailable)
	okTarget := ""
	if resp.StatusCode == http.StatusOK && f.target.kind == kindManifest && !f.target.blocking {
		okTarget = f.target.key
	}
	e.breaker.record(failed, okTarget)
	if e.slates != nil && f.target.kind == kindManifest {
		if p, dir, ok := mediaPlaylistPath(f.target.key); ok {
			e.fillMediaPlaylist(f, resp, p, dir)
			return
		}
	}
	if resp.StatusCode >= 500 && f.stale != nil && f.stale.canServeOnError(e.now()) {
		// Every upstream failed: the waiters serve the stale copy.
		e.endFill(f, nil, fmt.Errorf("%s answered %d", resp.upstream.base, resp.StatusCode))
		return
	}
	header := forwardHeader(resp.Header)
	fresh := policy(resp.StatusCode, resp.Header, f.target.kind)
	f.setHead(resp.StatusCode, header, fresh.age, resp.ContentLength)
	if err := e.readBody(resp, func(p []byte) error { f.write(p); return nil }); err != nil {
		e.endFill(f, nil, err)
		return
	}
	body := f.state(0).chunk
	if resp.ContentLength >= 0 && int64(len(body)) != resp.ContentLength {
		e.endFill(f, nil, resp.readErr(io.ErrUnexpectedEOF))
		return
	}
	now := e.now()
	if resp.StatusCode == http.StatusOK && f.target.kind == kindManifest {
		e.ages.observe(f.target.key, body, now)
	}
	if resp.StatusCode == http.StatusOK && e.slates != nil {
		e.slates.learn(f.target, body)
	}
	var obj *object
	if fresh.store {
		obj = &object{
			key: f.target.key, status: resp.StatusCode, header: header, body: body,
			stored: now, fresh: fresh, kind: f.target.kind, upstream: resp.upstream.base,
			size: objectSize(f.target.key, header, body),
		}
	}
	e.endFill(f, obj, nil)
}

// readBody reads resp's body to the end, handing each chunk to sink and
// re-arming the stall timer; a read error comes back wrapped by readErr.
func (e *Edge) readBody(resp *upstreamResponse, sink func([]byte) error) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			resp.progress(e.cfg.UpstreamTimeout)
			e.metrics.bytes.WithLabelValues("in").Add(float64(n))
			if serr := sink(buf[:n]); serr != nil {
				return resp.readErr(serr)
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return resp.readErr(err)
		}
	}
}

// endFill stores obj (if any), unregisters f and wakes its waiters.
// Storing and unregistering under one lock means no request can find
// neither and fetch the object a second time.
func (e *Edge) endFill(f *fill, obj *object, err error) {
	e.mu.Lock()
	if obj != nil {
		e.cache.put(obj)
	}
	if e.fills[f.target.key] == f {
		delete(e.fills, f.target.key)
	}
	e.mu.Unlock()
	if err != nil && !errors.Is(err, context.Canceled) {
		e.log.Debug("fill failed", "target", f.target.key, "err", err)
	}
	f.finish(err)
}

// hopHeaders are hop-by-hop headers (RFC 9110 section 7.6.1) and the ones
// the edge sets itself or never shares between viewers.
var hopHeaders = [...]string{
	"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
	"Content-Length", "Age", "Date", "Set-Cookie", "X-Cache",
}

// forwardHeader copies the upstream header a viewer or downstream cache
// should see: Content-Type, Cache-Control, ETag, Last-Modified, CORS and
// the rest, without hop-by-hop fields.
func forwardHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, c := range h.Values("Connection") {
		for name := range strings.SplitSeq(c, ",") {
			out.Del(textproto.TrimString(name))
		}
	}
	for _, name := range hopHeaders {
		out.Del(name)
	}
	return out
}
