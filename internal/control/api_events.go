package control

import (
	"net/http"
	"strconv"
)

// Event list limits.
const (
	defaultEventLimit = 100
	maxEventLimit     = 1000
)

// listEvents answers GET /api/v1/events[?channel=NAME][&limit=N]: the
// newest events first.
func (a *API) listEvents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	channel := q.Get("channel")
	if channel != "" {
		if err := checkName(channel); err != nil {
			return err
		}
	}
	limit := defaultEventLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEventLimit {
			return errorf(http.StatusBadRequest, "limit %q: want 1 to %d", v, maxEventLimit)
		}
		limit = n
	}
	events, err := a.m.Events(r.Context(), channel, limit)
	if err != nil {
		return managerError("list events", err)
	}
	if events == nil {
		events = []Event{}
	}
	writeJSON(w, http.StatusOK, events)
	return nil
}
