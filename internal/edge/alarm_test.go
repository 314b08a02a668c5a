package edge

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// alarmUpstream serves media playlists (target duration 2 s) whose newest
// segment is seg.
func alarmUpstream(t *testing.T, seg *atomic.Int64) *countingUpstream {
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=1")
		n := seg.Load()
		fmt.Fprintf(w, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:%d\n#EXTINF:2,\n%d.m4s\n", n, n)
	})
}

// expectAlarm waits for the next alarm and checks it.
func expectAlarm(t *testing.T, alarms <-chan Alarm, want Alarm) {
	t.Helper()
	select {
	case a := <-alarms:
		if a != want {
			t.Errorf("alarm %+v, want %+v", a, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no alarm within 5 s, want %+v", want)
	}
}

// expectNoAlarm checks that no alarm comes within a few checks.
func expectNoAlarm(t *testing.T, alarms <-chan Alarm) {
	t.Helper()
	select {
	case a := <-alarms:
		t.Errorf("unexpected alarm %+v", a)
	case <-time.After(4 * alarmInterval):
	}
}

func TestManifestAlarmRaisedAndClearedOnce(t *testing.T) {
	cases := []struct {
		name  string
		after time.Duration // Config.ManifestAlarmAfter
		limit time.Duration // the limit that applies
	}{
		{"default: 2 target durations", 0, 4 * time.Second},
		{"configured", 10 * time.Second, 10 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			var seg atomic.Int64
			seg.Store(10)
			up := alarmUpstream(t, &seg)
			alarms := make(chan Alarm, 10)
			e, logs := startEdgeLog(t, Config{
				Upstreams: []string{up.URL}, Now: clock.Now, ManifestAlarmAfter: tc.after,
				OnAlarm: func(a Alarm) { alarms <- a },
			})
			gauge := func() float64 { return testutil.ToFloat64(e.metrics.manifestAlarm.WithLabelValues("news")) }
			get(t, e.url+"/live/news/720p/index.m3u8")
			clock.Advance(tc.limit) // at the limit, not over it
			expectNoAlarm(t, alarms)

			clock.Advance(time.Second)
			expectNoAlarm(t, alarms) // over the limit, but nobody looked
			get(t, e.url+"/live/news/720p/index.m3u8")
			expectAlarm(t, alarms, Alarm{Channel: "news", Age: tc.limit + time.Second, Raised: true, At: clock.Now()})
			if gauge() != 1 {
				t.Errorf("gauge %v while raised, want 1", gauge())
			}
			clock.Advance(time.Minute)
			expectNoAlarm(t, alarms) // raised once

			seg.Store(11)
			get(t, e.url+"/live/news/720p/index.m3u8")
			expectAlarm(t, alarms, Alarm{Channel: "news", Age: 0, Raised: false, At: clock.Now()})
			if gauge() != 0 {
				t.Errorf("gauge %v after clearing, want 0", gauge())
			}
			expectNoAlarm(t, alarms) // cleared once
			if n, m := len(logs.matching("manifest alarm raised")), len(logs.matching("manifest alarm cleared")); n != 1 || m != 1 {
				t.Errorf("%d raised and %d cleared log lines, want 1 and 1", n, m)
			}
		})
	}
}

// TestSlowAlarmCallback holds the callback while viewers are served and
// the callback itself uses the edge: nothing is locked while it runs.
func TestSlowAlarmCallback(t *testing.T) {
	clock := newFakeClock()
	var seg atomic.Int64
	up := alarmUpstream(t, &seg)
	release := make(chan struct{})
	alarms := make(chan Alarm, 10)
	var e *testEdge
	var inCallback atomic.Bool
	e, _ = startEdgeLog(t, Config{
		Upstreams: []string{up.URL}, Now: clock.Now,
		OnAlarm: func(a Alarm) {
			inCallback.Store(true)
			// A scrape and a request through the edge from inside the
			// callback: they would deadlock if a lock were held.
			if _, err := testutil.GatherAndCount(e.reg); err != nil {
				t.Errorf("gather: %v", err)
			}
			resp, err := http.Get(e.url + "/live/news/720p/index.m3u8")
			if err != nil {
				t.Errorf("request from the callback: %v", err)
			} else {
				resp.Body.Close()
			}
			<-release
			alarms <- a
		},
	})
	get(t, e.url+"/live/news/720p/index.m3u8")
	get(t, e.url+"/live/sport/720p/index.m3u8")
	clock.Advance(5 * time.Second)
	get(t, e.url+"/live/news/720p/index.m3u8")
	get(t, e.url+"/live/sport/720p/index.m3u8")
	eventually(t, 5*time.Second, "the callback called", inCallback.Load)
	for range 20 {
		start := time.Now()
		if r := get(t, e.url+"/live/c/720p/1.m4s"); r.status != 200 || time.Since(start) > time.Second {
			t.Fatalf("request during a slow callback: %d after %v", r.status, time.Since(start))
		}
	}
	close(release)
	got := map[string]bool{}
	for range 2 {
		select {
		case a := <-alarms:
			if !a.Raised {
				t.Errorf("alarm %+v, want raised", a)
			}
			got[a.Channel] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("alarms after release: %v", got)
		}
	}
	if !got["news"] || !got["sport"] {
		t.Errorf("alarms for %v, want news and sport", got)
	}
}
