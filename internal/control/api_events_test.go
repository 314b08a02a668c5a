package control_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"onair/internal/control"
)

func TestListEvents(t *testing.T) {
	m := newFakeManager()
	at := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	m.events = []control.Event{
		{At: at.Add(2 * time.Second), Kind: "edge.manifest_age.cleared", Channel: "news", Reason: "advancing again"},
		{At: at.Add(time.Second), Kind: "edge.manifest_age.raised", Channel: "sport", Reason: "stopped"},
		{At: at, Kind: "edge.manifest_age.raised", Channel: "news", Reason: "stopped"},
	}
	api, err := control.New(control.Config{}, m, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := api.Handler()
	for _, tc := range []struct {
		target string
		status int
		kinds  []string
	}{
		{"/api/v1/events", 200, []string{"edge.manifest_age.cleared", "edge.manifest_age.raised", "edge.manifest_age.raised"}},
		{"/api/v1/events?channel=news", 200, []string{"edge.manifest_age.cleared", "edge.manifest_age.raised"}},
		{"/api/v1/events?channel=news&limit=1", 200, []string{"edge.manifest_age.cleared"}},
		{"/api/v1/events?channel=nobody", 200, []string{}},
		{"/api/v1/events?channel=Bad..Name", 400, nil},
		{"/api/v1/events?limit=0", 400, nil},
		{"/api/v1/events?limit=100000", 400, nil},
	} {
		req := httptest.NewRequest(http.MethodGet, tc.target, nil)
		req.RemoteAddr = "127.0.0.1:1234"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.target, rec.Code, tc.status, rec.Body)
			continue
		}
		if tc.status != 200 {
			continue
		}
		var got []control.Event
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("%s: %v", tc.target, err)
		}
		if len(got) != len(tc.kinds) {
			t.Errorf("%s: %d events, want %d", tc.target, len(got), len(tc.kinds))
			continue
		}
		for i, e := range got {
			if e.Kind != tc.kinds[i] {
				t.Errorf("%s: event %d is %s, want %s", tc.target, i, e.Kind, tc.kinds[i])
			}
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/api/v1/events", nil)
	req.RemoteAddr = "127.0.0.1:1234"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST events: %d, want 405", rec.Code)
	}
}
