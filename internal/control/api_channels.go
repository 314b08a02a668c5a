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
	chans, err := a.m.ListChannels(r.Context(), base)
	if err != nil {
		return managerError("list channels", err)
	}
	if chans == nil {
		chans = []Channel{} // [] rather than null
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
		ch, err := a.m.SetChannelEnabled(r.Context(), name, enabled, base)
		if err != nil {
			return managerError(fmt.Sprintf("set channel %q enabled=%t", name, enabled), err)
		}
		writeJSON(w, http.StatusOK, ch)
		return nil
	}
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
