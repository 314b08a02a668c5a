package origin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"onair/internal/httprange"
	"strconv"

	"onair/internal/live"
	"onair/internal/objstore"
)

// objectState classifies a segment or part request against a snapshot.
type objectState int

const (
	objectPast   objectState = iota // exists or existed: memory, else storage
	objectNear                      // at most one segment ahead of the newest: hold
	objectFuture                    // further ahead, or can never exist: 404 now
)

// serveObject serves an init segment, segment or part with Range and HEAD
// support. mayHold allows holding a request for an object not there yet.
func (o *Origin) serveObject(w http.ResponseWriter, r *http.Request, ch *live.Channel, rend *live.Rendition, rt route, mayHold bool, changed <-chan struct{}) error {
	var (
		data  []byte
		err   error
		ctype = contentTypeM4S
	)
	if rt.kind == kindInit {
		ctype = contentTypeMP4
		data, err = o.initData(r.Context(), ch, rend, rt.object.Name)
	} else {
		data, err = o.mediaData(r.Context(), ch, rend, rt.object.Segment, rt.object.Part, mayHold, changed)
	}
	if err != nil {
		return err
	}
	return serveBytes(w, r, ctype, objectCacheControl(ch.Grid()), data)
}

func (o *Origin) initData(ctx context.Context, ch *live.Channel, rend *live.Rendition, name string) ([]byte, error) {
	if b, ok := rend.Init(name); ok {
		return b, nil
	}
	return o.fromStore(ctx, live.InitKey(ch.Name(), rend.Name(), name))
}

// mediaData returns the bytes of segment n (p < 0) or part p of segment n:
// from memory, else from storage; a request at most one segment ahead of
// the newest is held until the object appears (if mayHold; otherwise it
// is 404).
func (o *Origin) mediaData(ctx context.Context, ch *live.Channel, rend *live.Rendition, n int64, p int, mayHold bool, changed <-chan struct{}) ([]byte, error) {
	if b, ok := rend.Data(n, p); ok {
		return b, nil
	}
	g := ch.Grid()
	snap := rend.Snapshot()
	switch classifyObject(&snap, n, p) {
	case objectFuture:
		return nil, notFound(errNoObject)
	case objectNear:
		if !mayHold {
			return nil, notFound(errNoObject)
		}
		err := o.hold(ctx, g, rend, n, p, changed)
		if errors.Is(err, errEnded) {
			return nil, notFound(err)
		}
		if err != nil {
			return nil, err
		}
		if b, ok := rend.Data(n, p); ok {
			return b, nil
		}
	}
	key := live.SegmentKey(ch.Name(), rend.Name(), n)
	if p >= 0 {
		key = live.PartKey(ch.Name(), rend.Name(), n, p)
	}
	return o.fromStore(ctx, key)
}

// classifyObject says whether part p of segment n (p < 0: the segment)
// exists, is due within one segment of the newest, or lies further ahead
// (or can never exist: a part index past the grid, or past the parts of a
// complete segment).
func classifyObject(snap *live.Snapshot, n int64, p int) objectState {
	if p >= snap.Grid.PartsPerSegment() {
		return objectFuture
	}
	last, parts, ok := snap.Last()
	if !ok {
		return objectFuture
	}
	complete := snap.Segments[len(snap.Segments)-1].Complete
	switch {
	case n > last+1:
		return objectFuture
	case n == last+1:
		return objectNear
	case n == last && !complete:
		if p < 0 || p >= parts {
			return objectNear
		}
		return objectPast
	}
	// An older segment: a part index beyond its parts never existed.
	if p >= 0 {
		for i := len(snap.Segments) - 1; i >= 0; i-- {
			if s := &snap.Segments[i]; s.Number == n {
				if p >= len(s.Parts) {
					return objectFuture
				}
				break
			}
		}
	}
	return objectPast
}

// fromStore reads an object from storage: 404 (cacheable for a second)
// when it is not there, 503 when storage fails.
func (o *Origin) fromStore(ctx context.Context, key string) ([]byte, error) {
	if o.store == nil {
		return nil, notFound(errNoObject)
	}
	b, err := o.store.Get(ctx, key)
	switch {
	case err == nil:
		return b, nil
	case errors.Is(err, objstore.ErrNotFound):
		return nil, notFound(err)
	case ctx.Err() != nil:
		return nil, ctx.Err()
	}
	return nil, unavailable(fmt.Errorf("read %s: %w", key, err))
}

// serveBytes writes an object, or the single byte range the request asks
// for (RFC 9110 section 14). The objects carry no validators, so a request
// with If-Range always gets the whole object.
func serveBytes(w http.ResponseWriter, r *http.Request, contentType, cacheControl string, data []byte) error {
	size := int64(len(data))
	rng := r.Header.Get("Range")
	if r.Header.Get("If-Range") != "" {
		rng = ""
	}
	br, res := httprange.Parse(rng, size)
	status := http.StatusOK
	switch res {
	case httprange.Unsatisfiable:
		return &httpError{
			status:       http.StatusRequestedRangeNotSatisfiable,
			contentRange: "bytes */" + strconv.FormatInt(size, 10),
			err:          fmt.Errorf("range %q of %d bytes", rng, size),
		}
	case httprange.Partial:
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", br.Start, br.End, size))
		data = data[br.Start : br.End+1]
		status = http.StatusPartialContent
	}
	w.Header().Set("Accept-Ranges", "bytes")
	writeBody(w, r, status, contentType, cacheControl, data)
	return nil
}
