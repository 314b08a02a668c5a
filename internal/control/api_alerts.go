package control

import (
	"errors"
	"net/http"

	"onair/internal/alertmanager"
	"onair/internal/authz"
)

// AlertResults is the response to an Alertmanager webhook: what was done
// for each alert that asked for a promotion.
type AlertResults struct {
	Results []AlertResult `json:"results"`
}

// AlertResult is the outcome of one promotion request.
type AlertResult struct {
	Channel  string `json:"channel"`
	Pipeline string `json:"pipeline"`
	Alert    string `json:"alert"`
	Outcome  string `json:"outcome,omitempty"`
	Error    string `json:"error,omitempty"`
}

// alertWebhook receives Alertmanager's webhook (deploy/prometheus): every
// firing alert labelled onair_action="promote_standby" promotes the
// standby of its channel if its pipeline is still the active one. A
// refusal is reported in the body with 200, so Alertmanager does not
// retry what cannot succeed; a malformed notification is a 400.
func (a *API) alertWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := a.allow(r, authz.ActionControl, authz.Resource{Type: authz.TypeServer, ID: "alerts"}, nil); err != nil {
		return err
	}
	proms, err := alertmanager.Parse(r.Body)
	switch {
	case errors.Is(err, alertmanager.ErrTooLarge):
		return errorf(http.StatusRequestEntityTooLarge, "%v", err)
	case err != nil:
		return errorf(http.StatusBadRequest, "%v", err)
	}
	out := AlertResults{Results: []AlertResult{}}
	for _, p := range proms {
		res := AlertResult{Channel: p.Channel, Pipeline: p.Pipeline, Alert: p.Alert}
		res.Outcome, err = a.m.AlertFailover(r.Context(), p.Channel, p.Pipeline, p.Reason)
		if err != nil {
			res.Error = err.Error()
			a.log.Warn("alert promotion refused", "channel", p.Channel, "pipeline", p.Pipeline, "alert", p.Alert, "err", err)
		} else {
			a.log.Info("alert handled", "channel", p.Channel, "pipeline", p.Pipeline, "alert", p.Alert, "outcome", res.Outcome)
		}
		out.Results = append(out.Results, res)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
