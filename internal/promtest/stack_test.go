package promtest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onair/internal/alertmanager"
)

// exposition is what onair's /metrics shows for three dual-pipeline
// channels: demo's active pipeline a is stale (9.5 s > 4 s), calm is
// healthy, news' standby b is stale.
const exposition = `# HELP onair_pipeline_manifest_age_seconds Seconds since the newest segment or part of the pipeline's slowest rendition.
# TYPE onair_pipeline_manifest_age_seconds gauge
onair_pipeline_manifest_age_seconds{channel="demo",pipeline="a"} 9.5
onair_pipeline_manifest_age_seconds{channel="demo",pipeline="b"} 0.4
onair_pipeline_manifest_age_seconds{channel="calm",pipeline="a"} 0.6
onair_pipeline_manifest_age_seconds{channel="calm",pipeline="b"} 0.5
onair_pipeline_manifest_age_seconds{channel="news",pipeline="a"} 0.5
onair_pipeline_manifest_age_seconds{channel="news",pipeline="b"} 30
# HELP onair_pipeline_manifest_age_threshold_seconds Manifest age above which the active pipeline is failed over.
# TYPE onair_pipeline_manifest_age_threshold_seconds gauge
onair_pipeline_manifest_age_threshold_seconds{channel="demo"} 4
onair_pipeline_manifest_age_threshold_seconds{channel="calm"} 4
onair_pipeline_manifest_age_threshold_seconds{channel="news"} 4
# HELP onair_pipeline_active 1 for the pipeline serving viewers, 0 for the standby.
# TYPE onair_pipeline_active gauge
onair_pipeline_active{channel="demo",pipeline="a"} 1
onair_pipeline_active{channel="demo",pipeline="b"} 0
onair_pipeline_active{channel="calm",pipeline="a"} 1
onair_pipeline_active{channel="calm",pipeline="b"} 0
onair_pipeline_active{channel="news",pipeline="a"} 1
onair_pipeline_active{channel="news",pipeline="b"} 0
# HELP onair_pipeline_up 1 while the pipeline runs and its encoder is not down.
# TYPE onair_pipeline_up gauge
onair_pipeline_up{channel="demo",pipeline="a"} 1
onair_pipeline_up{channel="demo",pipeline="b"} 1
onair_pipeline_up{channel="calm",pipeline="a"} 1
onair_pipeline_up{channel="calm",pipeline="b"} 1
onair_pipeline_up{channel="news",pipeline="a"} 1
onair_pipeline_up{channel="news",pipeline="b"} 1
# HELP onair_pipeline_failovers_total Pipeline failovers.
# TYPE onair_pipeline_failovers_total counter
onair_pipeline_failovers_total{channel="demo",reason="manifest_stale"} 0
`

const token = "test-token-5b0e"

type webhookCall struct {
	auth string
	body []byte
}

// TestStackPromotesStaleActive runs the shipped rules in a real Prometheus
// and Alertmanager against a fake onair: the stale active pipeline of demo
// reaches the webhook as a notification that Parse turns into a promotion
// of demo/a; the healthy channel and the stale standby raise nothing.
func TestStackPromotesStaleActive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus and Alertmanager")
	}
	calls := make(chan webhookCall, 16)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		io.WriteString(w, exposition)
	})
	mux.HandleFunc("POST /api/v1/alerts/alertmanager", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, alertmanager.MaxBodyBytes+1))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case calls <- webhookCall{auth: r.Header.Get("Authorization"), body: body}:
		default: // the test has seen enough
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	start := time.Now()
	s := Start(t, Config{
		Target:      srv.URL + "/metrics",
		RulesFile:   filepath.Join(deployDir, "onair-rules.yml"),
		WebhookURL:  srv.URL + "/api/v1/alerts/alertmanager",
		BearerToken: token,
	})
	t.Logf("prometheus %s and alertmanager %s ready after %v", s.PrometheusURL, s.AlertmanagerURL, time.Since(start))

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var call webhookCall
	select {
	case call = <-calls:
	case <-ctx.Done():
		alerts, err := s.Alerts(t.Context())
		t.Fatalf("no webhook call within 30 s; prometheus alerts: %+v (%v)", alerts, err)
	}
	t.Logf("webhook called %v after start:\n%s", time.Since(start), call.body)

	if call.auth != "Bearer "+token {
		t.Errorf("Authorization = %q, want the bearer token", call.auth)
	}
	got, err := alertmanager.Parse(strings.NewReader(string(call.body)))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("promotions = %+v, want one", got)
	}
	p := got[0]
	wantReason := "OnairPipelineManifestStale: Channel demo: active pipeline a manifest is 9.5s old (threshold 4.0s)"
	if p.Channel != "demo" || p.Pipeline != "a" || p.Alert != "OnairPipelineManifestStale" || p.Reason != wantReason ||
		p.StartsAt.IsZero() || time.Since(p.StartsAt) > time.Minute || p.Fingerprint == "" {
		t.Errorf("promotion = %+v, want demo/a OnairPipelineManifestStale with reason %q", p, wantReason)
	}

	// What Prometheus holds now: demo/a firing, news/b pending for its
	// 1m, nothing about calm.
	// The rules of one group need not all have been evaluated with the
	// same scrapes when the webhook fires: look for a few intervals.
	var (
		alerts     []Alert
		demo, news bool
	)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if alerts, err = s.Alerts(ctx); err != nil {
			t.Fatal(err)
		}
		demo, news = false, false
		for _, a := range alerts {
			switch key := a.Labels["alertname"] + " " + a.Labels["channel"] + "/" + a.Labels["pipeline"] + " " + a.State; key {
			case "OnairPipelineManifestStale demo/a firing":
				demo = true
			case "OnairStandbyUnhealthy news/b pending":
				news = true
			default:
				t.Errorf("unexpected alert %s: %+v", key, a)
			}
		}
		if demo && news || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if !demo || !news {
		t.Errorf("alerts = %+v, want demo/a firing and news/b pending", alerts)
	}
	// Anything else the webhook got must be the same promotion again.
	for {
		select {
		case c := <-calls:
			more, err := alertmanager.Parse(strings.NewReader(string(c.body)))
			if err != nil || len(more) != 1 || more[0].Channel != "demo" || more[0].Pipeline != "a" {
				t.Errorf("another webhook call: %+v, %v\n%s", more, err, c.body)
			}
		default:
			return
		}
	}
}
