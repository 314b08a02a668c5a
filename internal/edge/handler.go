package edge

import (
	"errors"
	"net/http"
	"strings"
)

// Labels of onair_edge_requests_total and values of X-Cache.
const (
	labelHit       = "hit"
	labelMiss      = "miss"
	labelCollapsed = "collapsed"
	labelStale     = "stale"
	labelError     = "error"
)

func (e *Edge) serveHTTP(w http.ResponseWriter, r *http.Request) {
	label := labelError
	defer func() { e.metrics.requests.WithLabelValues(label).Inc() }()
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	path := r.URL.EscapedPath()
	switch {
	case len(uri) > e.cfg.MaxURLBytes:
		writeError(w, http.StatusRequestURITooLong)
		return
	case r.Method == http.MethodOptions:
		preflight(w, r)
		return
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		writeError(w, http.StatusMethodNotAllowed)
		return
	case !strings.HasPrefix(path, "/") || hasDotSegment(path):
		writeError(w, http.StatusBadRequest)
		return
	}
	if r.Method != http.MethodOptions && !e.admit(w, r, path) {
		label = labelDenied
		return
	}
	label = e.serve(w, r, newTarget(r.URL, e.strip))
}

// serve answers a GET or HEAD from the cache, a stale copy or a fill, and
// returns the cache label.
func (e *Edge) serve(w http.ResponseWriter, r *http.Request, t target) string {
	if e.slates != nil {
		if e.serveSlateObject(w, r, t) {
			return labelSlate
		}
		if t.kind == kindManifest && e.breaker.isOpen() && e.serveSlatePlaylist(w, r, t) {
			return labelSlate
		}
	}
	obj, f, label := e.lookup(t)
	if obj == nil && f == nil {
		// The circuit is open and nothing is cached.
		w.Header().Set("Retry-After", "2")
		writeError(w, http.StatusServiceUnavailable)
		return labelError
	}
	if f != nil {
		var (
			served bool
			err    error
		)
		defer func() { f.leave(served) }()
		if label == labelCollapsed {
			e.metrics.collapsed.Inc()
		}
		obj, served, err = e.serveFill(w, r, f, label)
		switch {
		case obj != nil:
			label = labelStale
		case errors.Is(err, errUpstreamTimeout):
			clear(w.Header())
			if e.serveLastPlaylist(w, r, t) {
				return labelStale
			}
			writeError(w, http.StatusGatewayTimeout)
			return labelError
		case err != nil && r.Context().Err() == nil:
			clear(w.Header())
			if e.serveLastPlaylist(w, r, t) {
				return labelStale
			}
			writeError(w, http.StatusBadGateway)
			return labelError
		default:
			return label
		}
	}
	e.serveObject(w, r, obj, label)
	return label
}

// lookup decides how to answer t: a fresh object (hit), an expired
// manifest while one refresh runs (stale), or a fill to join (collapsed)
// or start (miss). A returned fill has been joined; the caller leaves it.
// While the circuit is open no fill starts: a cached copy of any age is
// returned as stale, else neither an object nor a fill.
func (e *Edge) lookup(t target) (*object, *fill, string) {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	obj := e.cache.get(t.key)
	if obj != nil {
		if obj.isFresh(now) {
			return obj, nil, labelHit
		}
		if obj.kind == kindManifest && obj.canRevalidateStale(now) {
			if e.fills[t.key] == nil && !e.breaker.isOpen() {
				e.startFill(t, nil, true)
			}
			return obj, nil, labelStale
		}
	}
	if f := e.fills[t.key]; f != nil && f.join() {
		return nil, f, labelCollapsed
	}
	if e.breaker.isOpen() {
		// No upstream request while the circuit is open: any copy is
		// better than an error.
		if obj != nil && obj.status == http.StatusOK {
			return obj, nil, labelStale
		}
		return nil, nil, labelError
	}
	var stale *object
	if obj != nil && obj.canServeOnError(now) {
		stale = obj
	}
	f := e.startFill(t, stale, false)
	f.join()
	return nil, f, labelMiss
}

// preflight answers a CORS preflight for the playback URLs (Fetch
// standard, CORS protocol): any origin, the safe methods, the headers asked.
func preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	}
	h.Set("Access-Control-Max-Age", "86400")
	h.Set("Allow", "GET, HEAD, OPTIONS")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// writeError writes a short plain error that no cache keeps. Clients see
// the status text only, never an internal cause.
func writeError(w http.ResponseWriter, status int) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(http.StatusText(status) + "\n"))
}
