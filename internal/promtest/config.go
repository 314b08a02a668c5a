package promtest

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config says what the servers of a Stack watch and where alerts go.
type Config struct {
	// Target is the URL Prometheus scrapes (job "onair"), e.g.
	// "http://127.0.0.1:41234/metrics"; a query becomes scrape params.
	Target string
	// RulesFile is the alert rule file Prometheus evaluates, e.g.
	// "../../deploy/prometheus/onair-rules.yml".
	RulesFile string
	// WebhookURL receives Alertmanager's notifications of the alerts
	// labelled onair_action="promote_standby" (firing only, like
	// deploy/prometheus/alertmanager.yml). Other alerts go nowhere.
	WebhookURL string
	// BearerToken, when set, is sent to WebhookURL as
	// "Authorization: Bearer <token>".
	BearerToken string
	// Interval is the scrape and rule evaluation interval, whole
	// milliseconds; default 1s.
	Interval time.Duration
	// ReadyTimeout bounds the wait for each server's /-/ready; default 20s.
	ReadyTimeout time.Duration
}

// Alertmanager route timings: a notification leaves as soon as an alert
// arrives (group_wait 0s); new alerts of a group follow within a second.
const (
	groupWait      = "0s"
	groupInterval  = "1s"
	repeatInterval = "1m"
	webhookMatcher = `onair_action="promote_standby"`
)

func (c Config) withDefaults() (Config, error) {
	if c.Interval == 0 {
		c.Interval = time.Second
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = 20 * time.Second
	}
	var errs []error
	if c.Interval < time.Millisecond || c.Interval%time.Millisecond != 0 {
		errs = append(errs, fmt.Errorf("interval %v: want whole milliseconds, at least 1ms", c.Interval))
	}
	if c.ReadyTimeout < 0 {
		errs = append(errs, fmt.Errorf("ready timeout %v is negative", c.ReadyTimeout))
	}
	if err := checkURL("target", c.Target); err != nil {
		errs = append(errs, err)
	}
	if err := checkURL("webhook", c.WebhookURL); err != nil {
		errs = append(errs, err)
	}
	if c.RulesFile == "" {
		errs = append(errs, errors.New("no rules file"))
	} else if abs, err := filepath.Abs(c.RulesFile); err != nil {
		errs = append(errs, fmt.Errorf("rules file: %w", err))
	} else if _, err := os.Stat(abs); err != nil {
		errs = append(errs, fmt.Errorf("rules file: %w", err))
	} else {
		c.RulesFile = abs
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("promtest config: %w", err)
	}
	return c, nil
}

func checkURL(what, s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%s URL: %w", what, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s URL %q: want http(s)://host:port/path", what, s)
	}
	return nil
}

// promDuration formats d the way Prometheus and Alertmanager parse
// durations.
func promDuration(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }

// prometheusConfig is prometheus.yml: scrape Target, evaluate RulesFile,
// send alerts to the Alertmanager at amAddr.
func prometheusConfig(c Config, amAddr string) ([]byte, error) {
	u, err := url.Parse(c.Target)
	if err != nil {
		return nil, fmt.Errorf("target URL: %w", err)
	}
	path := u.Path
	if path == "" {
		path = "/metrics"
	}
	scrape := map[string]any{
		"job_name":       "onair",
		"scheme":         u.Scheme,
		"metrics_path":   path,
		"static_configs": []any{map[string]any{"targets": []string{u.Host}}},
	}
	if u.RawQuery != "" {
		scrape["params"] = map[string][]string(u.Query())
	}
	iv := promDuration(c.Interval)
	doc := map[string]any{
		"global": map[string]any{
			"scrape_interval":     iv,
			"scrape_timeout":      iv,
			"evaluation_interval": iv,
		},
		"rule_files": []string{c.RulesFile},
		"alerting": map[string]any{
			"alertmanagers": []any{map[string]any{
				"static_configs": []any{map[string]any{"targets": []string{amAddr}}},
			}},
		},
		"scrape_configs": []any{scrape},
	}
	return yaml.Marshal(doc)
}

// alertmanagerConfig is alertmanager.yml: the action alerts to WebhookURL,
// the rest to a receiver without integrations.
func alertmanagerConfig(c Config) ([]byte, error) {
	webhook := map[string]any{
		"url":           c.WebhookURL,
		"send_resolved": false,
	}
	if c.BearerToken != "" {
		webhook["http_config"] = map[string]any{
			"authorization": map[string]any{"type": "Bearer", "credentials": c.BearerToken},
		}
	}
	doc := map[string]any{
		"route": map[string]any{
			"receiver":        "none",
			"group_by":        []string{"alertname", "channel", "pipeline"},
			"group_wait":      groupWait,
			"group_interval":  groupInterval,
			"repeat_interval": repeatInterval,
			"routes": []any{map[string]any{
				"receiver": "webhook",
				"matchers": []string{webhookMatcher},
			}},
		},
		"receivers": []any{
			map[string]any{"name": "none"},
			map[string]any{"name": "webhook", "webhook_configs": []any{webhook}},
		},
	}
	return yaml.Marshal(doc)
}
