package edge

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"onair/internal/httprange"
)

// writeHead sets the forwarded headers plus Age and X-Cache.
func writeHead(w http.ResponseWriter, header http.Header, age time.Duration, label string) {
	h := w.Header()
	maps.Copy(h, header)
	h["Age"] = []string{strconv.FormatInt(int64(age/time.Second), 10)}
	h["X-Cache"] = []string{strings.ToUpper(label)}
}

// resolveRange applies the request's Range to a 200 body of size bytes
// whose validators are in header: the status to send and the [start, end)
// slice; ok false means 416 has been written. An If-Range that does not
// match the ETag (strong comparison) or the Last-Modified date gets the
// whole body (RFC 9110 section 13.1.5).
func resolveRange(w http.ResponseWriter, r *http.Request, header http.Header, size int64) (status int, start, end int64, ok bool) {
	rng := r.Header.Get("Range")
	if !ifRangeHolds(r.Header.Get("If-Range"), header.Get("ETag"), header.Get("Last-Modified")) {
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

// ifRangeHolds evaluates an If-Range field value ("" always holds).
func ifRangeHolds(ir, etag, lastModified string) bool {
	switch {
	case ir == "":
		return true
	case strings.HasPrefix(ir, `"`) || strings.HasPrefix(ir, "W/"):
		return strongMatch(ir, etag)
	}
	return lastModified != "" && ir == lastModified
}

// lastModifiedOf parses a header's Last-Modified; zero when absent or
// invalid.
func lastModifiedOf(h http.Header) time.Time {
	t, err := http.ParseTime(h.Get("Last-Modified"))
	if err != nil {
		return time.Time{}
	}
	return t
}

// serveObject writes a cached object (from memory or from the spill), a
// 304 when the request's preconditions match it, or the byte range asked
// for.
func (e *Edge) serveObject(w http.ResponseWriter, r *http.Request, obj *object, label string) {
	etag := obj.entityTag()
	if obj.status == http.StatusOK && isConditional(r) && notModified(r, etag, obj.lastModified()) {
		writeNotModified(w, obj.header, etag, obj.age(e.now()), label)
		e.metrics.notModified.Inc()
		return
	}
	var file *os.File
	if obj.spilled != nil {
		if obj.body == nil {
			f, err := e.spill.open(obj)
			if err != nil {
				// The file is gone or unreadable: answer as if it had
				// never been spilled.
				e.serve(w, r, newTarget(r.URL, e.strip))
				return
			}
			defer f.Close()
			file = f
		}
		e.metrics.spillHits.Inc()
	}
	writeHead(w, obj.header, obj.age(e.now()), label)
	status, size := obj.status, obj.bodyLen()
	start, end := int64(0), size
	if status == http.StatusOK {
		h := w.Header()
		if h.Get("ETag") == "" {
			h.Set("ETag", etag)
		}
		h.Set("Accept-Ranges", "bytes")
		var ok bool
		if status, start, end, ok = resolveRange(w, r, h, size); !ok { // h has the ETag
			return
		}
	}
	w.Header()["Content-Length"] = []string{strconv.FormatInt(end-start, 10)}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if file != nil {
		e.copyFile(w, file, obj, start, end)
		return
	}
	n, _ := w.Write(obj.body[start:end])
	e.metrics.bytes.WithLabelValues("out").Add(float64(n))
}

// copyFile writes [start, end) of a spill file. A read failure after the
// head aborts the response (a short body would look complete).
func (e *Edge) copyFile(w http.ResponseWriter, f *os.File, obj *object, start, end int64) {
	src := &readRecorder{r: io.NewSectionReader(f, start, end-start)}
	n, err := io.Copy(w, src)
	e.metrics.bytes.WithLabelValues("out").Add(float64(n))
	if src.err != nil || (err == nil && n != end-start) {
		if src.err == nil {
			src.err = io.ErrUnexpectedEOF
		}
		e.spill.failed("read", obj.spilled, src.err)
		panic(http.ErrAbortHandler)
	}
}

// readRecorder remembers its reader's first error other than io.EOF, to
// tell a failing disk from a viewer gone away.
type readRecorder struct {
	r   io.Reader
	err error
}

func (rr *readRecorder) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && rr.err == nil {
		rr.err = err
	}
	return n, err
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
	etag := s.header.Get("ETag")
	if s.status == http.StatusOK && isConditional(r) {
		if etag == "" && r.Header.Get("If-None-Match") != "" {
			// The edge's entity tag is derived from the whole body.
			if s, err = f.wait(ctx, 0, func(s fillState) bool { return s.done }); err != nil {
				return nil, false, err
			}
			if s.err != nil {
				return nil, false, s.err
			}
			etag = bodyETag(s.chunk)
		}
		if notModified(r, etag, lastModifiedOf(s.header)) {
			writeNotModified(w, s.header, etag, s.age, label)
			e.metrics.notModified.Inc()
			return nil, true, nil
		}
	}
	writeHead(w, s.header, s.age, label)
	status, start, end := s.status, int64(0), s.size
	if status == http.StatusOK {
		if etag != "" && s.header.Get("ETag") == "" {
			w.Header().Set("ETag", etag)
		}
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
		if status, start, end, ok = resolveRange(w, r, w.Header(), max(end, 0)); !ok { // with the ETag
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
