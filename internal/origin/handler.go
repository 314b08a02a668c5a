package origin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"onair/internal/live"
)

// statusClientGone is the status recorded (never sent) when the client
// went away before the response was ready (nginx's convention).
const statusClientGone = 499

// statusWriter records the status for metrics and for writing errors once.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (o *Origin) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	w := &statusWriter{ResponseWriter: rw}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	rt, status := parsePath(r.URL.EscapedPath())
	var err error
	switch {
	case r.Method == http.MethodOptions:
		o.preflight(w)
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		err = clientError(http.StatusMethodNotAllowed, errors.New("method "+r.Method))
	case status != 0:
		// A path that can never exist: no-store, unlike a 404 for an
		// object that may exist soon.
		err = clientError(status, errors.New("unroutable path"))
	default:
		err = o.serve(w, r, rt)
	}
	if err != nil {
		o.fail(w, r, rt, err)
	}
	o.metrics.requests.WithLabelValues(string(rt.kind), strconv.Itoa(w.status)).Inc()
}

// serve dispatches a routed GET or HEAD to the channel's origin group.
// A held request whose group changes meanwhile is served again from the
// new group (at most twice).
func (o *Origin) serve(w *statusWriter, r *http.Request, rt route) error {
	if rt.time {
		return o.serveTime(w, r)
	}
	for attempt := 0; ; attempt++ {
		err := o.serveGroup(w, r, rt, o.cfg.Group(rt.channel))
		if !errors.Is(err, errRegrouped) || attempt == 2 {
			return err
		}
	}
}

// serveGroup serves playlists from the first pipeline of g that has the
// channel, and objects from the first that has the object: only the
// first may hold a request for an object not there yet.
func (o *Origin) serveGroup(w *statusWriter, r *http.Request, rt route, g Group) error {
	var err error = notFound(errUnknownChannel)
	first := true
	for _, p := range g.Pipelines {
		ch, ok := o.index.Lookup(live.PipelineID(rt.channel, p))
		if !ok {
			continue
		}
		if len(g.Pipelines) > 1 {
			w.Header().Set("Onair-Pipeline", p)
		}
		switch rt.kind {
		case kindMaster:
			return o.serveMaster(w, r, ch)
		case kindMPD:
			return o.serveMPD(w, r, ch, rt.channel)
		}
		rend, ok := ch.Lookup(rt.rendition)
		if !ok {
			err = notFound(errUnknownRendition)
			continue
		}
		if rt.kind == kindMedia {
			return o.serveMedia(w, r, ch, rt.channel, rend, g.Changed)
		}
		err = o.serveObject(w, r, ch, rend, rt, first, g.Changed)
		var he *httpError
		if !errors.As(err, &he) || he.status != http.StatusNotFound {
			return err
		}
		first = false
	}
	return err
}

// preflight answers a CORS preflight for the playback paths.
func (o *Origin) preflight(w *statusWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Range, If-Range, Origin, Accept")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// fail writes err's response (if nothing was written yet) and logs it once,
// at a level that follows the status: 5xx error (503 warn), 4xx debug.
func (o *Origin) fail(w *statusWriter, r *http.Request, rt route, err error) {
	if r.Context().Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		w.status = statusClientGone
		o.log.Debug("client went away", "method", r.Method, "path", r.URL.Path, "channel", rt.channel, "rendition", rt.rendition)
		return
	}
	var he *httpError
	if !errors.As(err, &he) {
		he = &httpError{status: http.StatusInternalServerError, err: err}
	}
	level := slog.LevelDebug
	switch {
	case he.status == http.StatusServiceUnavailable:
		level = slog.LevelWarn
	case he.status >= 500:
		level = slog.LevelError
	}
	o.log.Log(r.Context(), level, "request failed", "status", he.status, "method", r.Method,
		"path", r.URL.Path, "channel", rt.channel, "rendition", rt.rendition, "err", he.err)
	if w.status != 0 {
		return // headers already sent; nothing more to say
	}
	h := w.Header()
	cache := he.cache
	if cache == "" {
		cache = cacheNone
	}
	h.Set("Cache-Control", cache)
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Accept-Ranges")
	if he.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(he.retryAfter))
	}
	if he.contentRange != "" {
		h.Set("Content-Range", he.contentRange)
	}
	if he.status == http.StatusMethodNotAllowed {
		h.Set("Allow", "GET, HEAD, OPTIONS")
	}
	body := http.StatusText(he.status) + "\n"
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(he.status)
	if r.Method != http.MethodHead {
		w.Write([]byte(body))
	}
}

// writeBody writes a successful response; HEAD gets the headers only.
func writeBody(w http.ResponseWriter, r *http.Request, status int, contentType, cacheControl string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", cacheControl)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
