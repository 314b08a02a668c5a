package origin

import (
	"errors"
	"net/http"
	"strconv"
)

// Sentinel causes, for logs and tests; clients only ever see the status.
var (
	errUnknownChannel   = errors.New("unknown channel")
	errUnknownRendition = errors.New("unknown rendition")
	errNotReady         = errors.New("no complete segment yet")
	errNoObject         = errors.New("object does not exist")
	errEnded            = errors.New("rendition ended before the object appeared")
	errHoldTimeout      = errors.New("hold timed out")
	errRegrouped        = errors.New("the channel's active pipeline changed")
	errBadDirective     = errors.New("malformed _HLS_msn or _HLS_part")
)

// httpError is a handler failure with the status decided where it is
// known. The response is written and logged once, in serveHTTP.
type httpError struct {
	status       int
	cache        string // Cache-Control; "" means no-store
	retryAfter   int    // seconds; 0 omits Retry-After
	contentRange string // for 416
	err          error  // internal cause: logged, never sent
}

func (e *httpError) Error() string {
	msg := strconv.Itoa(e.status) + " " + http.StatusText(e.status)
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}

func (e *httpError) Unwrap() error { return e.err }

// notFound is a 404 for something that does not exist (yet); caches may
// keep it for a second.
func notFound(err error) *httpError {
	return &httpError{status: http.StatusNotFound, cache: cacheNotFound, err: err}
}

// badRequest is a 4xx that no cache should keep.
func clientError(status int, err error) *httpError {
	return &httpError{status: status, err: err}
}

// unavailable is a 503 asking the client to retry in a second.
func unavailable(err error) *httpError {
	return &httpError{status: http.StatusServiceUnavailable, retryAfter: 1, err: err}
}
