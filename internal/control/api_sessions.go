package control

import (
	"fmt"
	"net/http"

	"onair/internal/authz"
)

// SessionList is the response body of GET /api/v1/channels/{name}/sessions.
type SessionList struct {
	Sessions []ViewerSession `json:"sessions"`
}

// listSessions answers GET /api/v1/channels/{name}/sessions.
func (a *API) listSessions(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := checkName(name); err != nil {
		return err
	}
	res, err := a.channelResource(r, authz.TypeSession, name)
	if err != nil {
		return err
	}
	res.ID = ""
	if err := a.allow(r, authz.ActionList, res, channelNotFound(name)); err != nil {
		return err
	}
	ss, err := a.m.Sessions(r.Context(), name)
	if err != nil {
		return managerError(fmt.Sprintf("list sessions of channel %q", name), err)
	}
	if ss == nil {
		ss = []ViewerSession{}
	}
	writeJSON(w, http.StatusOK, SessionList{Sessions: ss})
	return nil
}

// revokeSession answers DELETE /api/v1/channels/{name}/sessions/{session}.
func (a *API) revokeSession(w http.ResponseWriter, r *http.Request) error {
	name, id := r.PathValue("name"), r.PathValue("session")
	if err := checkName(name); err != nil {
		return err
	}
	res, err := a.channelResource(r, authz.TypeSession, name)
	if err != nil {
		return err
	}
	res.ID = id
	if err := a.allow(r, authz.ActionRevokeSession, res, channelNotFound(name)); err != nil {
		return err
	}
	if err := a.m.RevokeSession(r.Context(), name, id); err != nil {
		return managerError(fmt.Sprintf("revoke session %q of channel %q", id, name), err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
