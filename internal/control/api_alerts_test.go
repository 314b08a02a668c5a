package control_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"onair/internal/control"
)

func TestAlertWebhook(t *testing.T) {
	// A notification as Alertmanager 0.25 sent it for the shipped rules.
	stale, err := os.ReadFile("../alertmanager/testdata/alertmanager-0.25-stale.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		active     string // demo's active pipeline before
		body       string
		wantStatus int
		wantActive string
		wantResult string // substring of the first result's outcome or error
	}{
		{"promotes the standby", "a", string(stale), 200, "b", "promoted b"},
		{"already failed over", "b", string(stale), 200, "b", "not active"},
		{"resolved only", "a", strings.Replace(string(stale), `"status":"firing"`, `"status":"resolved"`, -1), 200, "a", ""},
		{"not json", "a", "{", 400, "a", ""},
		{"wrong version", "a", strings.Replace(string(stale), `"version":"4"`, `"version":"3"`, 1), 400, "a", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newAPIEnv(t, "")
			if _, err := e.fake.CreateChannel(t.Context(), control.ChannelSpec{Name: "demo"}, "http://x"); err != nil {
				t.Fatal(err)
			}
			ch, _ := e.fake.GetChannel(t.Context(), "demo", "")
			ch.ActivePipeline = tc.active
			e.fake.set(ch)
			rec := e.do(t, "POST", "/api/v1/alerts/alertmanager", "application/json", tc.body)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if got, _ := e.fake.GetChannel(t.Context(), "demo", ""); got.ActivePipeline != tc.wantActive {
				t.Errorf("active %q, want %q", got.ActivePipeline, tc.wantActive)
			}
			if tc.wantStatus != 200 {
				return
			}
			var res control.AlertResults
			if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
				t.Fatal(err)
			}
			if tc.wantResult == "" {
				if len(res.Results) != 0 {
					t.Errorf("results %+v, want none", res.Results)
				}
				return
			}
			if len(res.Results) != 1 || !strings.Contains(res.Results[0].Outcome+res.Results[0].Error, tc.wantResult) {
				t.Errorf("results %+v, want %q", res.Results, tc.wantResult)
			}
		})
	}
}
