package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"onair/internal/authz"
	"onair/internal/tenant"
)

// ChannelList is the response body of GET /api/v1/channels.
type ChannelList struct {
	Channels []Channel `json:"channels"`
}

func (a *API) listChannels(w http.ResponseWriter, r *http.Request) error {
	base, err := baseURL(r)
	if err != nil {
		return err
	}
	all, err := a.m.ListChannels(r.Context(), base)
	if err != nil {
		return managerError("list channels", err)
	}
	chans := []Channel{} // [] rather than null
	for _, c := range all {
		if a.permitted(r, authz.ActionList, authz.Resource{Type: authz.TypeChannel, ID: c.Name, Tenant: c.Tenant}) {
			chans = append(chans, c)
		}
	}
	writeJSON(w, http.StatusOK, ChannelList{Channels: chans})
	return nil
}

func (a *API) createChannel(w http.ResponseWriter, r *http.Request) error {
	base, err := baseURL(r)
	if err != nil {
		return err
	}
	var spec ChannelSpec
	if err := decodeJSON(w, r, &spec); err != nil {
		return err
	}
	if err := checkName(spec.Name); err != nil {
		return err
	}
	if err := checkMode(spec.Pipelines); err != nil {
		return err
	}
	if err := checkAccess(spec.Access); err != nil {
		return err
	}
	if spec.Inputs != nil {
		if err := spec.Inputs.check(); err != nil {
			return err
		}
	}
	if spec.DRM != nil {
		if err := spec.DRM.check(); err != nil {
			return err
		}
	}
	if err := a.ownChannel(r, &spec); err != nil {
		return err
	}
	ch, err := a.m.CreateChannel(r.Context(), spec, base)
	if err != nil {
		return managerError(fmt.Sprintf("create channel %q", spec.Name), err)
	}
	w.Header().Set("Location", "/api/v1/channels/"+url.PathEscape(ch.Name))
	writeJSON(w, http.StatusCreated, ch)
	return nil
}

func (a *API) getChannel(w http.ResponseWriter, r *http.Request) error {
	base, err := baseURL(r)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	if err := checkName(name); err != nil {
		return err
	}
	if err := a.allowChannel(r, authz.ActionRead, name); err != nil {
		return err
	}
	ch, err := a.m.GetChannel(r.Context(), name, base)
	if err != nil {
		return managerError(fmt.Sprintf("get channel %q", name), err)
	}
	writeJSON(w, http.StatusOK, ch)
	return nil
}

func (a *API) deleteChannel(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if err := checkName(name); err != nil {
		return err
	}
	if err := a.allowChannel(r, authz.ActionDelete, name); err != nil {
		return err
	}
	if err := a.m.DeleteChannel(r.Context(), name); err != nil {
		return managerError(fmt.Sprintf("delete channel %q", name), err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// setEnabled handles /start (enabled) and /stop (disabled). A body, if any,
// is ignored.
func (a *API) setEnabled(enabled bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		base, err := baseURL(r)
		if err != nil {
			return err
		}
		name := r.PathValue("name")
		if err := checkName(name); err != nil {
			return err
		}
		if err := a.allowChannel(r, authz.ActionControl, name); err != nil {
			return err
		}
		ch, err := a.m.SetChannelEnabled(r.Context(), name, enabled, base)
		if err != nil {
			return managerError(fmt.Sprintf("set channel %q enabled=%t", name, enabled), err)
		}
		writeJSON(w, http.StatusOK, ch)
		return nil
	}
}

// ownChannel fills in and authorizes the tenant of a channel to create: a
// tenant principal's own tenant by default; a named tenant must exist.
func (a *API) ownChannel(r *http.Request, spec *ChannelSpec) error {
	p, _ := principalOf(r)
	if spec.Tenant == "" {
		spec.Tenant = p.Tenant
	}
	if spec.Tenant != "" {
		if a.tenants == nil {
			return errorf(http.StatusBadRequest, "tenant %q: this server has no tenants", spec.Tenant)
		}
		if p.Tenant != "" && spec.Tenant != p.Tenant {
			return errorf(http.StatusForbidden, "a %s key creates channels in its own tenant only", p.Role)
		}
		if _, err := a.tenants.GetTenant(r.Context(), spec.Tenant); err != nil {
			if errors.Is(err, tenant.ErrNotFound) {
				return errorf(http.StatusBadRequest, "tenant %q does not exist", spec.Tenant)
			}
			return tenantError("get tenant "+spec.Tenant, err)
		}
	}
	return a.allow(r, authz.ActionCreate, authz.Resource{Type: authz.TypeChannel, ID: spec.Name, Tenant: spec.Tenant}, nil)
}

// checkName is ValidChannelName as a 400.
func checkName(name string) error {
	if !ValidChannelName(name) {
		return errorf(http.StatusBadRequest,
			"invalid channel name %q: use 1-63 lowercase letters, digits and '-', not starting with '-'", name)
	}
	return nil
}

// decodeJSON strictly decodes a request body of at most maxBodyBytes
// holding exactly one JSON object with only known fields into v.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "Content-Type must be application/json, got %q", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return bodyError(err)
		}
		return errorf(http.StatusBadRequest, "request body must hold a single JSON object")
	}
	return nil
}

// bodyError turns a JSON decoding error into a client error with a useful
// message.
func bodyError(err error) error {
	var (
		tooBig *http.MaxBytesError
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return errorf(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, "request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "request body is truncated JSON")
	case errors.As(err, &syntax):
		return errorf(http.StatusBadRequest, "malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return errorf(http.StatusBadRequest, "field %q must be %s", typ.Field, typ.Type)
		}
		return errorf(http.StatusBadRequest, "request body must be a JSON object")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for DisallowUnknownFields.
		return errorf(http.StatusBadRequest, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return &httpError{status: http.StatusBadRequest, msg: "cannot read request body", cause: err}
	}
}
