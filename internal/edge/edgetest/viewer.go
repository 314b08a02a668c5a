package edgetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ViewerConfig describes one simulated player.
type ViewerConfig struct {
	// Playlist is the absolute URL of the rendition's media playlist.
	Playlist string
	// Master, if set, is the absolute URL of the multivariant playlist,
	// fetched once first as a player does.
	Master string
	// LowLatency selects hls.js's low-latency mode: one blocking reload
	// for the next part after another, every new part fetched once.
	// Otherwise the viewer reloads the plain playlist every Poll and
	// fetches every new complete segment once.
	LowLatency bool
	// Poll is the plain reload interval. Default 1 s.
	Poll time.Duration
	// Retry is the pause after a failed request. Default 250 ms.
	Retry time.Duration
	// Query is added to every request URL, e.g. "token=viewer7" (a
	// viewer-specific parameter an edge strips from its cache key).
	Query string
	// Client makes the requests. Default: a client of the viewer's own
	// with one keep-alive connection, like one player.
	Client *http.Client
	// Observe, if set, is called after every request, from Run's
	// goroutine.
	Observe func(Fetch)
}

// Fetch is one request a viewer made.
type Fetch struct {
	Kind    Kind
	URL     string
	Status  int           // 0 when no response came
	Cache   string        // the X-Cache header
	Bytes   int64         // body bytes read
	Latency time.Duration // from sending the request to the end of the body
	// Err is a transport error, a status other than 200, or a body that
	// is not the object asked for (an edgetest object starts with its
	// path) or not a usable playlist; nil on success.
	Err error
}

// requestTimeout bounds every request, blocking reloads included.
const requestTimeout = 20 * time.Second

// Viewer is one simulated player.
type Viewer struct {
	cfg     ViewerConfig
	client  *http.Client
	own     *http.Transport // the default client's, closed by Run
	dir     string          // playlist URL up to and including the last '/'
	dirPath string          // its path
	body    bytes.Buffer    // last playlist body; pl points into it
	pl      playlist
	want    []byte // expected start of an object body
	got     []byte
	init    string // URI of the init segment fetched last
}

// NewViewer validates cfg and returns a viewer. It starts nothing.
func NewViewer(cfg ViewerConfig) (*Viewer, error) {
	u, err := url.Parse(cfg.Playlist)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("edgetest: viewer playlist %q: want an absolute http(s) URL without query", cfg.Playlist)
	}
	if cfg.Poll < 0 || cfg.Retry < 0 {
		return nil, errors.New("edgetest: viewer poll and retry must not be negative")
	}
	if cfg.Poll == 0 {
		cfg.Poll = time.Second
	}
	if cfg.Retry == 0 {
		cfg.Retry = 250 * time.Millisecond
	}
	v := &Viewer{cfg: cfg, client: cfg.Client}
	if v.client == nil {
		v.own = &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 1,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}
		v.client = &http.Client{Transport: v.own}
	}
	i := strings.LastIndexByte(cfg.Playlist, '/')
	v.dir = cfg.Playlist[:i+1]
	v.dirPath = u.EscapedPath()[:strings.LastIndexByte(u.EscapedPath(), '/')+1]
	return v, nil
}

// Run plays until ctx ends, then returns nil. Failed requests are
// reported to Observe and retried after Retry; Run itself fails only
// when the playlist has no parts in low-latency mode.
func (v *Viewer) Run(ctx context.Context) error {
	if v.own != nil {
		defer v.own.CloseIdleConnections()
	}
	if v.cfg.Master != "" {
		v.fetchObject(ctx, KindMaster, v.cfg.Master, "")
	}
	var err error
	if v.cfg.LowLatency {
		err = v.runLowLatency(ctx)
	} else {
		err = v.runPlain(ctx)
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// runLowLatency follows the live edge part by part.
func (v *Viewer) runLowLatency(ctx context.Context) error {
	if !v.loadPlain(ctx) {
		return nil
	}
	cursor, ok := v.pl.newestPart()
	if !ok {
		return fmt.Errorf("edgetest: viewer: %s lists no parts: not a low-latency playlist", v.cfg.Playlist)
	}
	v.fetchInit(ctx)
	v.fetchObject(ctx, KindPart, v.dir+cursor.name(), v.dirPath+cursor.name())
	for ctx.Err() == nil {
		next, ok := v.pl.next()
		if !ok {
			return fmt.Errorf("edgetest: viewer: %s lists no parts any more", v.cfg.Playlist)
		}
		target := v.cfg.Playlist + "?_HLS_msn=" + strconv.FormatInt(next.n, 10) + "&_HLS_part=" + strconv.Itoa(next.p)
		if !v.loadPlaylist(ctx, KindBlocking, target) {
			// Pause, then resynchronize with a plain reload, as a
			// player does.
			if !sleep(ctx, v.cfg.Retry) || !v.loadPlain(ctx) {
				return nil
			}
		}
		v.fetchInit(ctx)
		for _, p := range v.pl.parts {
			if p.after(cursor) {
				v.fetchObject(ctx, KindPart, v.dir+p.name(), v.dirPath+p.name())
				cursor = p
			}
		}
	}
	return nil
}

// runPlain reloads the plain playlist every Poll and fetches new
// complete segments.
func (v *Viewer) runPlain(ctx context.Context) error {
	cursor := ref{n: -1, p: -1}
	for {
		if !v.loadPlain(ctx) {
			return nil
		}
		v.fetchInit(ctx)
		if cursor.n < 0 && len(v.pl.segments) > 0 {
			// Start at the newest complete segment.
			cursor = v.pl.segments[len(v.pl.segments)-1]
			v.fetchObject(ctx, KindSegment, v.dir+cursor.name(), v.dirPath+cursor.name())
		}
		for _, s := range v.pl.segments {
			if s.after(cursor) {
				v.fetchObject(ctx, KindSegment, v.dir+s.name(), v.dirPath+s.name())
				cursor = s
			}
		}
		if !sleep(ctx, v.cfg.Poll) {
			return nil
		}
	}
}

// loadPlain loads the plain playlist, retrying until it succeeds; false
// when ctx ended first.
func (v *Viewer) loadPlain(ctx context.Context) bool {
	for !v.loadPlaylist(ctx, KindPlaylist, v.cfg.Playlist) {
		if !sleep(ctx, v.cfg.Retry) {
			return false
		}
	}
	return true
}

// fetchInit fetches the init segment the playlist names, once per URI.
func (v *Viewer) fetchInit(ctx context.Context) {
	if v.pl.mapURI == nil || string(v.pl.mapURI) == v.init {
		return
	}
	v.init = string(v.pl.mapURI)
	v.fetchObject(ctx, KindInit, v.dir+v.init, v.dirPath+v.init)
}

// withQuery adds the configured query to target.
func (v *Viewer) withQuery(target string) string {
	switch {
	case v.cfg.Query == "":
		return target
	case strings.Contains(target, "?"):
		return target + "&" + v.cfg.Query
	}
	return target + "?" + v.cfg.Query
}

// loadPlaylist fetches and parses a media playlist into v.pl.
func (v *Viewer) loadPlaylist(ctx context.Context, kind Kind, target string) bool {
	f := v.do(ctx, kind, target, func(body io.Reader) (int64, error) {
		v.body.Reset()
		n, err := v.body.ReadFrom(body)
		if err != nil {
			return n, err
		}
		return n, v.pl.parse(v.body.Bytes())
	})
	return f.Err == nil
}

// fetchObject fetches an object and checks that its body starts with
// path (the path line of an edgetest object), unless path is "".
func (v *Viewer) fetchObject(ctx context.Context, kind Kind, target, path string) {
	f := v.do(ctx, kind, target, func(body io.Reader) (int64, error) {
		var n int64
		if path != "" {
			v.want = append(append(v.want[:0], path...), '\n')
			v.got = append(v.got[:0], v.want...)
			m, err := io.ReadFull(body, v.got)
			n = int64(m)
			if err != nil || !bytes.Equal(v.got, v.want) {
				return n, fmt.Errorf("body does not start with %q", path)
			}
		}
		m, err := io.Copy(io.Discard, body)
		return n + m, err
	})
	if f.Err != nil {
		sleep(ctx, v.cfg.Retry)
	}
}

// do makes one GET, reads the body with read and reports the fetch.
func (v *Viewer) do(ctx context.Context, kind Kind, target string, read func(io.Reader) (int64, error)) Fetch {
	target = v.withQuery(target)
	f := Fetch{Kind: kind, URL: target}
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	start := time.Now()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, target, nil)
	if err != nil {
		f.Err = fmt.Errorf("GET %s: %w", target, err)
		v.observe(ctx, f)
		return f
	}
	resp, err := v.client.Do(req)
	if err != nil {
		f.Err = fmt.Errorf("GET %s: %w", target, err)
		v.observe(ctx, f)
		return f
	}
	f.Status, f.Cache = resp.StatusCode, resp.Header.Get("X-Cache")
	if resp.StatusCode != http.StatusOK {
		f.Bytes, _ = io.Copy(io.Discard, resp.Body)
		f.Err = fmt.Errorf("GET %s: HTTP %d", target, resp.StatusCode)
	} else if f.Bytes, err = read(resp.Body); err != nil {
		f.Err = fmt.Errorf("GET %s: %w", target, err)
	}
	resp.Body.Close()
	f.Latency = time.Since(start)
	v.observe(ctx, f)
	return f
}

// observe reports f, unless it failed because ctx ended (the viewer is
// leaving, not the edge failing).
func (v *Viewer) observe(ctx context.Context, f Fetch) {
	if f.Err != nil && ctx.Err() != nil {
		return
	}
	if v.cfg.Observe != nil {
		v.cfg.Observe(f)
	}
}

// sleep waits d; false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
