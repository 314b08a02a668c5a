package edge

import (
	"fmt"
	"maps"
	"net/http"
	"onair/internal/httprange"
	"strconv"
	"strings"
	"time"
)

// writeHead sets the forwarded headers plus Age and X-Cache.
func writeHead(w http.ResponseWriter, header http.Header, age time.Duration, label string) {
	h := w.Header()
	maps.Copy(h, header)
	h["Age"] = []string{strconv.FormatInt(int64(age/time.Second), 10)}
	h["X-Cache"] = []string{strings.ToUpper(label)}
}

// resolveRange applies the request's Range to a 200 body of size bytes:
// the status to send and the [start, end) slice; ok false means 416 has
// been written. If-Range matching the ETag (or Last-Modified) keeps the
// range; any other If-Range gets the whole body (RFC 9110 section 13.1.5).
func resolveRange(w http.ResponseWriter, r *http.Request, header http.Header, size int64) (status int, start, end int64, ok bool) {
	rng := r.Header.Get("Range")
	if ir := r.Header.Get("If-Range"); ir != "" && ir != header.Get("ETag") && ir != header.Get("Last-Modified") {
		rng = ""
	}
	br, res := httprange.Parse(rng, size)
	switch res {
	case httprange.Unsatisfiable:
		h := w.Header()
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		h.Del("Content-Type")
		writeError(w, http.StatusRequestedRangeNotSatisfiable)
		return 0, 0, 0, false
	case httprange.Partial:
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", br.Start, br.End, size))
		return http.StatusPartialContent, br.Start, br.End + 1, true
	}
	return http.StatusOK, 0, size, true
}

// serveObject writes a cached object, or the byte range asked for.
func (e *Edge) serveObject(w http.ResponseWriter, r *http.Request, obj *object, label string) {
	writeHead(w, obj.header, obj.age(e.now()), label)
	status, body := obj.status, obj.body
	if status == http.StatusOK {
		w.Header().Set("Accept-Ranges", "bytes")
		st, start, end, ok := resolveRange(w, r, obj.header, int64(len(body)))
		if !ok {
			return
		}
		status, body = st, body[start:end]
	}
	w.Header()["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	n, _ := w.Write(body)
	e.metrics.bytes.WithLabelValues("out").Add(float64(n))
}

// serveFill answers from a fill as its body streams in; served reports
// that the viewer got all it asked for. When the fill fails before its
// head and a stale copy may be served, it returns that copy for the
// caller to serve; otherwise the fill's error, with nothing written. A
// failure after the head aborts the response, so the viewer sees a
// broken transfer rather than a short body.
func (e *Edge) serveFill(w http.ResponseWriter, r *http.Request, f *fill, label string) (stale *object, served bool, err error) {
	ctx := r.Context()
	s, err := f.wait(ctx, 0, func(s fillState) bool { return s.headDone || s.done })
	if err != nil {
		return nil, false, err
	}
	if !s.headDone {
		if f.stale != nil && f.stale.canServeOnError(e.now()) {
			return f.stale, false, nil
		}
		return nil, false, s.err
	}
	writeHead(w, s.header, s.age, label)
	status, start, end := s.status, int64(0), s.size
	if status == http.StatusOK {
		w.Header().Set("Accept-Ranges", "bytes")
		if r.Header.Get("Range") != "" && s.size < 0 {
			// The size is needed for the range: wait for the whole body.
			s, err = f.wait(ctx, 0, func(s fillState) bool { return s.done })
			if err != nil {
				return nil, false, err
			}
			if s.err != nil {
				return nil, false, s.err
			}
			end = int64(len(s.chunk))
		}
		var ok bool
		if status, start, end, ok = resolveRange(w, r, s.header, max(end, 0)); !ok {
			return nil, true, nil
		}
		if s.size < 0 && r.Header.Get("Range") == "" {
			end = -1 // unknown: stream to the end
		}
	}
	if end >= 0 {
		w.Header()["Content-Length"] = []string{strconv.FormatInt(end-start, 10)}
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return nil, true, nil
	}
	return nil, e.stream(w, r, f, start, end), nil
}

// stream copies f's body from start to end (exclusive; -1: to the end)
// as it arrives, flushing after every chunk. It reports whether the
// viewer got it all (false: the viewer went away).
func (e *Edge) stream(w http.ResponseWriter, r *http.Request, f *fill, start, end int64) bool {
	rc := http.NewResponseController(w)
	cursor := start
	for end < 0 || cursor < end {
		s, err := f.wait(r.Context(), cursor, func(s fillState) bool { return len(s.chunk) > 0 || s.done })
		if err != nil {
			return false
		}
		chunk := s.chunk
		if end >= 0 && int64(len(chunk)) > end-cursor {
			chunk = chunk[:end-cursor]
		}
		if len(chunk) > 0 {
			n, err := w.Write(chunk)
			e.metrics.bytes.WithLabelValues("out").Add(float64(n))
			if err != nil {
				return false
			}
			cursor += int64(n)
			_ = rc.Flush()
			continue
		}
		if s.err != nil {
			// Headers are gone: only aborting the connection tells the
			// viewer the body is incomplete (net/http's documented way).
			panic(http.ErrAbortHandler)
		}
		return true
	}
	return true
}
