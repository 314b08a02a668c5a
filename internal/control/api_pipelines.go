package control

import (
	"fmt"
	"net/http"
	"time"

	"onair/internal/authz"
)

func (a *API) updateChannel(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := checkName(name); err != nil {
		return err
	}
	if err := a.allowChannel(r, authz.ActionUpdate, name); err != nil {
		return err
	}
	var upd ChannelUpdate
	if err := decodeJSON(w, r, &upd); err != nil {
		return err
	}
	if upd.Pipelines != nil {
		if err := checkMode(*upd.Pipelines); err != nil {
			return err
		}
	}
	if upd.Access != nil {
		if err := checkAccess(*upd.Access); err != nil {
			return err
		}
	}
	if upd.Inputs != nil {
		if err := upd.Inputs.check(); err != nil {
			return err
		}
	}
	if upd.DRM != nil {
		if err := upd.DRM.check(); err != nil {
			return err
		}
	}
	base, err := baseURL(r)
	if err != nil {
		return err
	}
	ch, err := a.m.UpdateChannel(r.Context(), name, upd, base)
	if err != nil {
		return managerError(fmt.Sprintf("update channel %q", name), err)
	}
	writeJSON(w, http.StatusOK, ch)
	return nil
}

func (a *API) pipelineAction(w http.ResponseWriter, r *http.Request) error {
	name, pipeline := r.PathValue("name"), r.PathValue("pipeline")
	if err := checkName(name); err != nil {
		return err
	}
	if err := a.allowChannel(r, authz.ActionControl, name); err != nil {
		return err
	}
	if pipeline != "a" && pipeline != "b" {
		return errorf(http.StatusNotFound, "no pipeline %q: channels have pipelines a and b", pipeline)
	}
	var act PipelineAction
	if err := decodeJSON(w, r, &act); err != nil {
		return err
	}
	switch act.Action {
	case "promote", "stop", "start":
	default:
		return errorf(http.StatusBadRequest, "action %q: want promote, stop or start", act.Action)
	}
	base, err := baseURL(r)
	if err != nil {
		return err
	}
	ch, err := a.m.PipelineAction(r.Context(), name, pipeline, act.Action, base)
	if err != nil {
		return managerError(fmt.Sprintf("%s pipeline %s of channel %q", act.Action, pipeline, name), err)
	}
	writeJSON(w, http.StatusOK, ch)
	return nil
}

// checkMode accepts the pipelines modes ("" is the server default).
func checkMode(mode string) error {
	switch mode {
	case "", "single", "standard":
		return nil
	}
	return errorf(http.StatusBadRequest, "pipelines %q: want single or standard", mode)
}

// check validates the durations' syntax; the manager checks ranges.
func (s *InputSettings) check() error {
	for _, f := range []struct{ name, v string }{
		{"loss_after", s.LossAfter}, {"clear_after", s.ClearAfter}, {"black_after", s.BlackAfter},
		{"frozen_after", s.FrozenAfter}, {"silent_after", s.SilentAfter},
	} {
		if f.v == "" {
			continue
		}
		if d, err := time.ParseDuration(f.v); err != nil || d < 0 {
			return errorf(http.StatusBadRequest, "inputs.%s: %q is not a duration such as \"1s\"", f.name, f.v)
		}
	}
	if len(s.SlateText) > 200 {
		return errorf(http.StatusBadRequest, "inputs.slate_text: longer than 200 bytes")
	}
	return nil
}

func (a *API) issueToken(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := checkName(name); err != nil {
		return err
	}
	if err := a.allowChannel(r, authz.ActionIssueToken, name); err != nil {
		return err
	}
	var req TokenRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
	}
	if req.TTL != "" {
		if d, err := time.ParseDuration(req.TTL); err != nil || d <= 0 {
			return errorf(http.StatusBadRequest, "ttl %q is not a positive duration such as \"1h\"", req.TTL)
		}
	}
	base, err := baseURL(r)
	if err != nil {
		return err
	}
	tok, err := a.m.IssueToken(r.Context(), name, req, base)
	if err != nil {
		return managerError(fmt.Sprintf("issue a token for channel %q", name), err)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, tok)
	return nil
}

// check validates a DRM setting.
func (d *DRM) check() error {
	switch d.Scheme {
	case "", "clear", "aes128", "cbcs", "cenc":
	default:
		return errorf(http.StatusBadRequest, "drm scheme %q: want clear, aes128, cbcs or cenc", d.Scheme)
	}
	switch {
	case d.RotateEvery < 0:
		return errorf(http.StatusBadRequest, "drm rotate_every %d: must not be negative", d.RotateEvery)
	case d.RotateEvery > 0 && (d.Scheme == "" || d.Scheme == "clear"):
		return errorf(http.StatusBadRequest, "drm rotate_every: a clear channel has no keys to rotate")
	}
	return nil
}

// checkAccess accepts the access modes ("" is public).
func checkAccess(access string) error {
	switch access {
	case "", "public", "signed":
		return nil
	}
	return errorf(http.StatusBadRequest, "access %q: want public or signed", access)
}
