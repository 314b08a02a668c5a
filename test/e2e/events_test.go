package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// The publisher stops while a viewer keeps polling: serve's edge raises
// the manifest-age alarm, and the event is in the API (and so on NATS).
func TestManifestAgeAlarmEvent(t *testing.T) {
	s := startServer(t, "")
	ch := s.createChannel(t, "alarm", false)
	pub := publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey), "320x240", 30, 0)
	playlist := s.base + "/live/alarm/160p30/index.m3u8"
	waitFor(t, 40*time.Second, "segments", func() bool { return lastSegment(t, playlist) >= 1 })
	pub.stop()
	type event struct {
		Kind, Channel, Source, Reason string
		Data                          map[string]any
	}
	var got []event
	waitFor(t, 30*time.Second, "a manifest-age event", func() bool {
		get(playlist) // a viewer keeps asking
		code, _, b := get(s.base + "/api/v1/events?channel=alarm")
		if code != 200 || json.Unmarshal(b, &got) != nil {
			return false
		}
		return len(got) > 0 && got[0].Kind == "edge.manifest_age.raised"
	})
	e := got[0]
	t.Logf("event: %+v", e)
	if e.Channel != "alarm" || e.Reason == "" || e.Source == "" || e.Data["age_s"] == nil {
		t.Errorf("event lacks detail: %+v", e)
	}
}
