package control

import (
	"fmt"
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

// inputChoice is the body of POST /api/v1/channels/{name}/input.
type inputChoice struct {
	Input string `json:"input"` // primary, backup or auto
}

// selectInput answers POST /api/v1/channels/{name}/input.
func (a *API) selectInput(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := checkName(name); err != nil {
		return err
	}
	var c inputChoice
	if err := decodeJSON(w, r, &c); err != nil {
		return err
	}
	switch c.Input {
	case "primary", "backup", "auto":
	default:
		return errorf(http.StatusBadRequest, "input %q: want primary, backup or auto", c.Input)
	}
	base, err := baseURL(r)
	if err != nil {
		return err
	}
	ch, err := a.m.SelectInput(r.Context(), name, c.Input, base)
	if err != nil {
		return managerError(fmt.Sprintf("select input of channel %q", name), err)
	}
	writeJSON(w, http.StatusOK, ch)
	return nil
}
