package edge

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strconv"
)

// revalidation is a stored 200 that a fill refreshes with a conditional
// request (RFC 9111 section 4.3.1) instead of fetching it whole again.
type revalidation struct {
	obj          *object
	etag         string // sent as If-None-Match: the upstream's tag, else the edge's
	lastModified string // sent as If-Modified-Since when the upstream sent one
	file         *os.File
}

// revalidation returns what a fill for t may revalidate: the stored 200
// under t's key, in memory or in the spill, or nil. The edge's own body
// tag is sent too: an upstream onair edge (a shield) derives the same
// tag from the same bytes, and any other upstream ignores it and answers
// 200. A spilled body is opened now, so a 304 can always be served.
func (g *group) revalidation(t target) *revalidation {
	if g.stored == nil || t.blocking {
		return nil
	}
	obj := g.stored(t.key)
	if obj == nil {
		return nil
	}
	rv := &revalidation{obj: obj, etag: obj.entityTag(), lastModified: obj.header.Get("Last-Modified")}
	if obj.body == nil && obj.spilled != nil {
		f, err := os.Open(obj.spilled.path)
		if err != nil {
			return nil
		}
		rv.file = f
	}
	return rv
}

// setHeaders makes req conditional.
func (rv *revalidation) setHeaders(req *http.Request) {
	if rv == nil {
		return
	}
	if rv.etag != "" {
		req.Header.Set("If-None-Match", rv.etag)
	}
	if rv.lastModified != "" {
		req.Header.Set("If-Modified-Since", rv.lastModified)
	}
}

// close releases the spilled body unless a refreshed response took it.
func (rv *revalidation) close() {
	if rv != nil && rv.file != nil {
		rv.file.Close()
		rv.file = nil
	}
}

// selects reports whether a 304 is about the stored response: it names
// no entity tag, or the one that was sent (RFC 9111 section 4.3.4: a 304
// with another validator must not update the stored response).
func (rv *revalidation) selects(h http.Header) bool {
	et := h.Get("ETag")
	return et == "" || matchesNoneMatch(et, rv.etag)
}

// refreshed turns an upstream's 304 into the stored 200 with its header
// fields updated from the 304 (RFC 9111 sections 3.2 and 4.3.4: every
// field the 304 carries replaces the stored one, except Content-Length).
// The body is the stored one; the fill streams it into a new object, so
// the freshness the 304 gave (its Cache-Control and Age) applies.
func (rv *revalidation) refreshed(resp *http.Response) *http.Response {
	resp.Body.Close()
	header := rv.obj.header.Clone()
	if header == nil {
		header = http.Header{}
	}
	for name, v := range resp.Header {
		if name != "Content-Length" {
			header[name] = v
		}
	}
	out := *resp
	out.StatusCode, out.Status = http.StatusOK, strconv.Itoa(http.StatusOK)+" "+http.StatusText(http.StatusOK)
	out.Header = header
	out.ContentLength = rv.obj.bodyLen()
	if rv.file != nil {
		out.Body = readCloser{io.NewSectionReader(rv.file, 0, out.ContentLength), rv.file}
		rv.file = nil
	} else {
		out.Body = io.NopCloser(bytes.NewReader(rv.obj.body))
	}
	return &out
}

// readCloser joins a reader and the closer of what it reads.
type readCloser struct {
	io.Reader
	io.Closer
}

// storedObject returns the 200 stored under key (memory, else spill)
// without marking it used; nil when there is none.
func (e *Edge) storedObject(key string) *object {
	e.mu.Lock()
	o := e.cache.peek(key)
	e.mu.Unlock()
	if o == nil || o.status != http.StatusOK {
		return nil
	}
	return o
}
