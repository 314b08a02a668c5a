package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sentinel causes of a failed fetch.
var (
	errUpstreamTimeout = errors.New("upstream timed out")
	errNoUpstream      = errors.New("no upstream answered")
)

// upstream is one member of the origin group.
type upstream struct {
	base string // scheme://host[/prefix], no trailing slash; also its metric label
	host string // host:port for TCP probes

	// Guarded by group.mu.
	up           bool
	healthySince time.Time // first of the current run of passed probes
	probeTarget  string    // a request target that answered 200 recently
}

// group is the origin group: ordered upstreams with up/down state, and
// per channel the upstreams whose manifests went stale.
type group struct {
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
	metrics   *metrics
	client    *http.Client
	dialer    *net.Dialer
	manifests *manifestFailover
	// stored returns the cached 200 under a key, for revalidation; nil:
	// fetches are never conditional.
	stored func(key string) *object

	mu  sync.Mutex
	ups []*upstream
}

func newGroup(cfg Config, log *slog.Logger, now func() time.Time, m *metrics) (*group, error) {
	g := &group{
		cfg: cfg, log: log, now: now, metrics: m, dialer: newDialer(cfg.UpstreamTimeout),
		manifests: newManifestFailover(cfg.StaleManifestAfter, log, m),
	}
	for _, raw := range cfg.Upstreams {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("upstream %q: %w", raw, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("upstream %q: want http(s)://host[:port][/prefix]", raw)
		}
		host := u.Host
		if u.Port() == "" {
			port := "80"
			if u.Scheme == "https" {
				port = "443"
			}
			host = net.JoinHostPort(u.Hostname(), port)
		}
		base := u.Scheme + "://" + u.Host + strings.TrimSuffix(u.EscapedPath(), "/")
		g.ups = append(g.ups, &upstream{base: base, host: host, up: true})
		m.upstreamUp.WithLabelValues(base).Set(1)
	}
	g.client = &http.Client{
		Transport: &http.Transport{
			DialContext:         g.dialer.DialContext,
			TLSHandshakeTimeout: cfg.UpstreamTimeout,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
			// The edge caches identity bodies and serves byte ranges of them.
			DisableCompression: true,
			ForceAttemptHTTP2:  true,
		},
		// A redirect is an answer for the viewer, not for the edge to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return g, nil
}

// candidates returns the upstreams to try: those up in configured order,
// then those down (a last resort is better than an error).
func (g *group) candidates() []*upstream { return g.candidatesFor("") }

// candidatesFor returns the upstreams to try for a target of channel
// ("": none): those up in configured order, those up but stale for the
// channel, then those down.
func (g *group) candidatesFor(channel string) []*upstream {
	var stale map[*upstream]bool
	if channel != "" {
		stale = g.manifests.staleSet(channel)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*upstream, 0, len(g.ups))
	for _, u := range g.ups {
		if u.up && !stale[u] {
			out = append(out, u)
		}
	}
	for _, u := range g.ups {
		if u.up && stale[u] {
			out = append(out, u)
		}
	}
	for _, u := range g.ups {
		if !u.up {
			out = append(out, u)
		}
	}
	return out
}

// alternates returns the upstreams other than from that are up and not
// stale for channel, in configured order.
func (g *group) alternates(channel string, from *upstream) []*upstream {
	stale := g.manifests.staleSet(channel)
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []*upstream
	for _, u := range g.ups {
		if u != from && u.up && !stale[u] {
			out = append(out, u)
		}
	}
	return out
}

// size is the number of upstreams in the group.
func (g *group) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.ups)
}

// upstreamResponse is an upstream's answer whose body is being read. The
// stall timer cancels the request when the body makes no progress for
// UpstreamTimeout; reset it after every read.
type upstreamResponse struct {
	*http.Response
	upstream *upstream
	ctx      context.Context
	stall    *time.Timer
	cancel   context.CancelCauseFunc
}

// progress re-arms the stall timer.
func (r *upstreamResponse) progress(d time.Duration) { r.stall.Reset(d) }

// close releases the response and its timer.
func (r *upstreamResponse) close() {
	r.stall.Stop()
	r.Body.Close()
	r.cancel(nil)
}

// readErr wraps a body read failure, naming a stall as a timeout.
func (r *upstreamResponse) readErr(err error) error {
	if errors.Is(context.Cause(r.ctx), errUpstreamTimeout) {
		err = errUpstreamTimeout
	}
	return fmt.Errorf("read body from %s: %w", r.upstream.base, err)
}

// fetch GETs t from the group: each candidate in turn until one answers
// with a status below 500 (a 503 to a blocking reload counts as an answer:
// it is the origin's hold timeout); the last candidate's 5xx is returned
// as the answer. headTimeout bounds the wait for each response head. An
// expired stored 200 under t's key is revalidated (an upstream's 304
// comes back as that 200, headers refreshed). A media playlist from an
// upstream whose playlists of the channel stopped advancing is compared
// with the next upstream's (manifest_failover.go).
func (g *group) fetch(ctx context.Context, t target, headTimeout time.Duration) (*upstreamResponse, error) {
	channel, _ := liveChannel(t.key)
	if t.blocking && channel != "" {
		g.precheck(ctx, channel)
	}
	cands := g.candidatesFor(channel)
	rv := g.revalidation(t)
	defer rv.close()
	var errs []error
	for i, u := range cands {
		resp, err := g.try(ctx, u, t, headTimeout, rv)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			errs = append(errs, err)
			continue
		}
		answered := resp.StatusCode < 500 || (t.blocking && resp.StatusCode == http.StatusServiceUnavailable)
		if !answered {
			g.markDown(u, fmt.Errorf("status %d", resp.StatusCode))
			if i < len(cands)-1 {
				resp.close()
				continue
			}
		}
		if resp.StatusCode == http.StatusOK && !t.blocking {
			g.mu.Lock()
			u.probeTarget = t.key
			g.mu.Unlock()
		}
		return g.checkManifest(ctx, t, resp, headTimeout), nil
	}
	return nil, fmt.Errorf("%w: %w", errNoUpstream, errors.Join(errs...))
}

// try GETs t from u, conditionally when rv is not nil. A transport error
// or a missing response head within headTimeout marks u down and is
// returned; any response comes back with its stall timer armed for
// UpstreamTimeout. A 304 to a conditional request comes back as the
// stored 200 with refreshed headers.
func (g *group) try(ctx context.Context, u *upstream, t target, headTimeout time.Duration, rv *revalidation) (*upstreamResponse, error) {
	rctx, cancel := context.WithCancelCause(ctx)
	stall := time.AfterFunc(headTimeout, func() { cancel(errUpstreamTimeout) })
	resp, err := g.get(rctx, u.base+t.key, rv)
	if err != nil {
		stall.Stop()
		cancel(nil)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		code := "error"
		if errors.Is(context.Cause(rctx), errUpstreamTimeout) {
			code, err = "timeout", fmt.Errorf("%s: %w", u.base, errUpstreamTimeout)
		}
		g.metrics.upstreamRequests.WithLabelValues(u.base, code).Inc()
		g.markDown(u, err)
		return nil, err
	}
	g.metrics.upstreamRequests.WithLabelValues(u.base, strconv.Itoa(resp.StatusCode)).Inc()
	if rv != nil {
		switch resp.StatusCode {
		case http.StatusNotModified:
			if !rv.selects(resp.Header) {
				// Not a 304 for the stored response: ask again, whole.
				resp.Body.Close()
				stall.Stop()
				cancel(nil)
				return g.try(ctx, u, t, headTimeout, nil)
			}
			g.metrics.revalidations.WithLabelValues("not_modified").Inc()
			resp = rv.refreshed(resp)
		case http.StatusOK:
			g.metrics.revalidations.WithLabelValues("modified").Inc()
		}
	}
	stall.Reset(g.cfg.UpstreamTimeout)
	return &upstreamResponse{Response: resp, upstream: u, ctx: rctx, stall: stall, cancel: cancel}, nil
}

func (g *group) get(ctx context.Context, rawURL string, rv *revalidation) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("User-Agent", "onair-edge")
	g.setUpstreamHeaders(req)
	rv.setHeaders(req)
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", rawURL, err)
	}
	return resp, nil
}

// setUpstreamHeaders adds Config.UpstreamHeaders to an upstream request.
func (g *group) setUpstreamHeaders(req *http.Request) {
	for k, vs := range g.cfg.UpstreamHeaders {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
}

// markDown takes u out of the preferred set until it passes its probes.
func (g *group) markDown(u *upstream, cause error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	u.healthySince = time.Time{}
	if !u.up {
		return
	}
	u.up = false
	g.metrics.upstreamUp.WithLabelValues(u.base).Set(0)
	g.log.Warn("upstream down", "upstream", u.base, "err", cause)
}

// probeInterval is how often down upstreams are probed: a quarter of
// FailBackAfter, between 10 ms and 1 s.
func (g *group) probeInterval() time.Duration {
	return min(max(g.cfg.FailBackAfter/4, 10*time.Millisecond), time.Second)
}

// probeLoop probes down upstreams, and upstreams stale for a channel,
// until ctx is canceled.
func (g *group) probeLoop(ctx context.Context) {
	tick := time.NewTicker(g.probeInterval())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			g.probeDown(ctx)
			g.probeStale(ctx)
		}
	}
}

// probeDown probes every down upstream once and brings back those that
// have passed every probe for FailBackAfter.
func (g *group) probeDown(ctx context.Context) {
	type job struct {
		u      *upstream
		target string
	}
	var jobs []job
	g.mu.Lock()
	for _, u := range g.ups {
		if !u.up {
			jobs = append(jobs, job{u, u.probeTarget})
		}
	}
	g.mu.Unlock()
	for _, j := range jobs {
		err := g.probe(ctx, j.u, j.target)
		if ctx.Err() != nil {
			return
		}
		now := g.now()
		g.mu.Lock()
		switch {
		case err != nil:
			j.u.healthySince = time.Time{}
		case j.u.healthySince.IsZero():
			j.u.healthySince = now
		}
		if err == nil && !j.u.up && now.Sub(j.u.healthySince) >= g.cfg.FailBackAfter {
			j.u.up = true
			g.metrics.upstreamUp.WithLabelValues(j.u.base).Set(1)
			g.log.Info("upstream back", "upstream", j.u.base)
		}
		g.mu.Unlock()
	}
}

// probe checks one upstream: a HEAD of a target that answered 200
// recently (any status below 500 passes), else a TCP connect.
func (g *group) probe(ctx context.Context, u *upstream, target string) error {
	ctx, cancel := context.WithTimeout(ctx, min(g.cfg.UpstreamTimeout, g.cfg.FailBackAfter, 5*time.Second))
	defer cancel()
	if target == "" {
		conn, err := g.dialer.DialContext(ctx, "tcp", u.host)
		if err != nil {
			return fmt.Errorf("probe %s: %w", u.base, err)
		}
		return conn.Close()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u.base+target, nil)
	if err != nil {
		return fmt.Errorf("probe %s: %w", u.base, err)
	}
	req.Header.Set("User-Agent", "onair-edge")
	g.setUpstreamHeaders(req)
	resp, err := g.client.Do(req)
	if err != nil {
		return fmt.Errorf("probe %s: %w", u.base, err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return fmt.Errorf("probe %s: status %d", u.base, resp.StatusCode)
	}
	return nil
}
