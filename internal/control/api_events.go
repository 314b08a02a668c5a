package control

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"onair/internal/authz"
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
		// A deleted channel's events stay listable, by operators.
		owner, err := a.m.ChannelTenant(r.Context(), channel)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return managerError("look up channel "+channel, err)
		}
		res := authz.Resource{Type: authz.TypeEvent, Tenant: owner}
		if err := a.allow(r, authz.ActionList, res, channelNotFound(channel)); err != nil {
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
	events, err = a.visibleEvents(r, events)
	if err != nil {
		return err
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
	if err := a.allowChannel(r, authz.ActionControl, name); err != nil {
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

// visibleEvents keeps the events the principal may list: each is judged
// as a resource of its channel's tenant (server-wide events, and those of
// channels since deleted, belong to no tenant: operators only).
func (a *API) visibleEvents(r *http.Request, events []Event) ([]Event, error) {
	owners := map[string]string{}
	out := events[:0:0]
	for _, e := range events {
		owner, seen := owners[e.Channel]
		if !seen && e.Channel != "" {
			t, err := a.m.ChannelTenant(r.Context(), e.Channel)
			switch {
			case errors.Is(err, ErrNotFound):
			case err != nil:
				return nil, managerError("look up channel "+e.Channel, err)
			default:
				owner = t
			}
			owners[e.Channel] = owner
		}
		if a.permitted(r, authz.ActionList, authz.Resource{Type: authz.TypeEvent, Tenant: owner}) {
			out = append(out, e)
		}
	}
	return out, nil
}
