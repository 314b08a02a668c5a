package promtest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"onair/internal/alertmanager"
)

// deployDir holds the files operators use; these tests check them with the
// real tools. A missing tool fails: scripts/setup.sh installs them.
const deployDir = "../../deploy/prometheus"

// tool runs a command with a bounded time and returns its stdout; a missing
// binary or a non-zero exit fails the test with the output.
func tool(t *testing.T, name string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: run scripts/setup.sh (Debian packages prometheus, prometheus-alertmanager): %v", name, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func TestRulesCheck(t *testing.T) {
	out := tool(t, "promtool", "check", "rules", filepath.Join(deployDir, "onair-rules.yml"))
	if !strings.Contains(out, "SUCCESS: 3 rules found") {
		t.Errorf("promtool check rules:\n%s", out)
	}
}

// TestRulesUnit runs onair-rules.test.yml: stale active fires, stale
// standby does not fire the action alert, up == 0 on the active fires,
// healthy does not fire, the threshold is compared per channel.
func TestRulesUnit(t *testing.T) {
	out := tool(t, "promtool", "test", "rules", filepath.Join(deployDir, "onair-rules.test.yml"))
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules:\n%s", out)
	}
}

func TestPrometheusExampleConfig(t *testing.T) {
	out := tool(t, "promtool", "check", "config", filepath.Join(deployDir, "prometheus.yml"))
	if !strings.Contains(out, "SUCCESS: 3 rules found") {
		t.Errorf("promtool check config did not load the rules:\n%s", out)
	}
}

func TestAlertmanagerExampleConfig(t *testing.T) {
	conf := filepath.Join(deployDir, "alertmanager.yml")
	tool(t, "amtool", "check-config", conf)
	for _, tc := range []struct {
		labels []string
		want   string // receivers, in order
	}{
		{[]string{"alertname=OnairPipelineManifestStale", "onair_action=promote_standby", "channel=demo", "pipeline=a", "severity=critical"}, "onair-promote,people"},
		{[]string{"alertname=OnairPipelineDown", "onair_action=promote_standby", "channel=demo", "pipeline=b", "severity=critical"}, "onair-promote,people"},
		{[]string{"alertname=OnairStandbyUnhealthy", "channel=demo", "pipeline=b", "severity=warning"}, "people"},
		{[]string{"alertname=Other", "onair_action=page"}, "people"},
	} {
		args := append([]string{"config", "routes", "test", "--config.file=" + conf}, tc.labels...)
		if got := strings.TrimSpace(tool(t, "amtool", args...)); got != tc.want {
			t.Errorf("route of %v: %q, want %q", tc.labels, got, tc.want)
		}
	}
	// The webhook: onair's endpoint, firing alerts only, bearer token.
	var doc struct {
		Receivers []struct {
			Name     string `yaml:"name"`
			Webhooks []struct {
				URL          string `yaml:"url"`
				SendResolved *bool  `yaml:"send_resolved"`
				HTTPConfig   struct {
					Authorization struct {
						Type string `yaml:"type"`
					} `yaml:"authorization"`
				} `yaml:"http_config"`
			} `yaml:"webhook_configs"`
		} `yaml:"receivers"`
	}
	readYAML(t, conf, &doc)
	found := false
	for _, r := range doc.Receivers {
		if r.Name != "onair-promote" {
			continue
		}
		found = true
		if len(r.Webhooks) != 1 {
			t.Fatalf("onair-promote has %d webhooks, want 1", len(r.Webhooks))
		}
		w := r.Webhooks[0]
		if w.URL != "http://127.0.0.1:8080/api/v1/alerts/alertmanager" || w.SendResolved == nil || *w.SendResolved ||
			w.HTTPConfig.Authorization.Type != "Bearer" {
			t.Errorf("onair-promote webhook = %+v", w)
		}
	}
	if !found {
		t.Error("no onair-promote receiver")
	}
}

// TestRulesCarryWhatParseNeeds ties the rule file to internal/alertmanager:
// the actionable alerts carry its action label and a summary, the others
// none.
func TestRulesCarryWhatParseNeeds(t *testing.T) {
	var doc struct {
		Groups []struct {
			Rules []struct {
				Alert       string            `yaml:"alert"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, filepath.Join(deployDir, "onair-rules.yml"), &doc)
	want := map[string]struct {
		action, severity, forDur string
	}{
		"OnairPipelineManifestStale": {alertmanager.ActionPromoteStandby, "critical", "0s"},
		"OnairPipelineDown":          {alertmanager.ActionPromoteStandby, "critical", "0s"},
		"OnairStandbyUnhealthy":      {"", "warning", "1m"},
	}
	seen := map[string]bool{}
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			w, ok := want[r.Alert]
			if !ok {
				t.Errorf("unexpected rule %q", r.Alert)
				continue
			}
			seen[r.Alert] = true
			if r.Labels[alertmanager.ActionLabel] != w.action || r.Labels["severity"] != w.severity || r.For != w.forDur {
				t.Errorf("%s: labels %v, for %q; want action %q, severity %q, for %q", r.Alert, r.Labels, r.For, w.action, w.severity, w.forDur)
			}
			if r.Annotations[alertmanager.SummaryAnnotation] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: annotations %v, want summary and description", r.Alert, r.Annotations)
			}
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("rule %s missing", name)
		}
	}
}

// TestGeneratedConfigs checks the harness' own configuration files with
// the tools.
func TestGeneratedConfigs(t *testing.T) {
	cfg, err := Config{
		Target:      "http://127.0.0.1:8080/metrics?x=1",
		RulesFile:   filepath.Join(deployDir, "onair-rules.yml"),
		WebhookURL:  "http://127.0.0.1:8080/api/v1/alerts/alertmanager",
		BearerToken: "secret",
	}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	prom, err := prometheusConfig(cfg, "127.0.0.1:9093")
	if err != nil {
		t.Fatal(err)
	}
	am, err := alertmanagerConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	promFile, amFile := filepath.Join(dir, "prometheus.yml"), filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(promFile, prom, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(amFile, am, 0o600); err != nil {
		t.Fatal(err)
	}
	if out := tool(t, "promtool", "check", "config", promFile); !strings.Contains(out, "SUCCESS: 3 rules found") {
		t.Errorf("promtool check config:\n%s", out)
	}
	tool(t, "amtool", "check-config", amFile)
	got := strings.TrimSpace(tool(t, "amtool", "config", "routes", "test", "--config.file="+amFile, "onair_action=promote_standby", "channel=demo"))
	if got != "webhook" {
		t.Errorf("action alert routed to %q, want webhook", got)
	}
	if got := strings.TrimSpace(tool(t, "amtool", "config", "routes", "test", "--config.file="+amFile, "alertname=OnairStandbyUnhealthy")); got != "none" {
		t.Errorf("informational alert routed to %q, want none", got)
	}
}

func TestConfigValidation(t *testing.T) {
	rules := filepath.Join(deployDir, "onair-rules.yml")
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no target", Config{RulesFile: rules, WebhookURL: "http://127.0.0.1:1/"}, "target URL"},
		{"relative webhook", Config{Target: "http://127.0.0.1:1/metrics", RulesFile: rules, WebhookURL: "/hook"}, "webhook URL"},
		{"missing rules", Config{Target: "http://127.0.0.1:1/metrics", RulesFile: "nope.yml", WebhookURL: "http://127.0.0.1:1/"}, "rules file"},
		{"sub-millisecond interval", Config{Target: "http://127.0.0.1:1/metrics", RulesFile: rules, WebhookURL: "http://127.0.0.1:1/", Interval: 1500 * time.Microsecond}, "whole milliseconds"},
	} {
		if _, err := tc.cfg.withDefaults(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one about %q", tc.name, err, tc.want)
		}
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
