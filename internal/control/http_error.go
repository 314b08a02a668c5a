package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// httpError is an error whose status and client-facing message are known
// where it is raised. The wrapped cause, if any, is only logged.
type httpError struct {
	status int
	msg    string
	cause  error
}

func (e *httpError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %v", e.msg, e.cause)
	}
	return e.msg
}

func (e *httpError) Unwrap() error { return e.cause }

// errorf returns an httpError with a formatted client-facing message.
func errorf(status int, format string, args ...any) *httpError {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// errorBody is the JSON shape of every API error response.
type errorBody struct {
	Error string `json:"error"`
}

// handlerFunc is an HTTP handler that returns its error instead of writing
// it, so that the status is chosen and the response written and logged in
// one place (errorResponse).
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// statusOf maps an error to the status code and the message a client may
// see. Manager sentinel errors carry operator-facing text by contract;
// anything else is internal and gets a generic message.
func statusOf(err error) (int, string) {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.status, he.msg
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, ErrConflict):
		return http.StatusConflict, err.Error()
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest, err.Error()
	default:
		return http.StatusInternalServerError, "internal server error"
	}
}

// managerError wraps an error from the Manager with the operation for the
// log. The client sees the Manager's own text for sentinel errors, which
// by contract is written for it, without our operation prefix.
func managerError(op string, err error) error {
	wrapped := fmt.Errorf("%s: %w", op, err)
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || errors.Is(err, ErrInvalid) {
		status, _ := statusOf(err)
		return &httpError{status: status, msg: err.Error(), cause: wrapped}
	}
	return wrapped
}

// serveAPI adapts a handlerFunc: a returned error becomes a JSON error
// response; 5xx errors are logged once with their details.
func (a *API) serveAPI(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		status, msg := statusOf(err)
		if status >= http.StatusInternalServerError {
			level := slog.LevelError
			if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
				level = slog.LevelDebug // the client went away
			}
			a.log.Log(r.Context(), level, "api request failed",
				"method", r.Method, "path", r.URL.Path, "status", status, "err", err)
		}
		writeJSON(w, status, errorBody{Error: msg})
	})
}

// writeJSON writes v as the whole response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own types are written; this is a programming error.
		status = http.StatusInternalServerError
		body = []byte(`{"error":"internal server error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
