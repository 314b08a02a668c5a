package alertmanager

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Version is the webhook payload version this package understands; every
// Alertmanager release since 0.8 sends "4".
const Version = "4"

// MaxBodyBytes bounds the webhook body Decode and Parse read (1 MiB). A
// notification carries one group of alerts; webhook_config max_alerts keeps
// it small in practice.
const MaxBodyBytes = 1 << 20

// Status values of a notification and of each of its alerts.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

var (
	// ErrInvalid is wrapped by every error about a malformed or unusable
	// notification; an HTTP handler answers 400.
	ErrInvalid = errors.New("invalid alertmanager notification")
	// ErrTooLarge is returned when the body exceeds MaxBodyBytes; an HTTP
	// handler answers 413.
	ErrTooLarge = errors.New("alertmanager notification too large")
)

// Message is one webhook notification: a group of alerts that share the
// route's group_by labels.
type Message struct {
	// Version of the payload format, always Version.
	Version string `json:"version"`
	// GroupKey identifies the alert group in Alertmanager (for logs).
	GroupKey string `json:"groupKey"`
	// TruncatedAlerts counts alerts left out because of max_alerts.
	TruncatedAlerts int `json:"truncatedAlerts"`
	// Status is StatusFiring while at least one alert of the group fires.
	Status string `json:"status"`
	// Receiver is the name of the Alertmanager receiver that sent it.
	Receiver string `json:"receiver"`
	// GroupLabels are the route's group_by labels and their values.
	GroupLabels map[string]string `json:"groupLabels"`
	// CommonLabels are the labels every alert of the group has.
	CommonLabels map[string]string `json:"commonLabels"`
	// CommonAnnotations are the annotations every alert of the group has.
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	// ExternalURL is the Alertmanager's own URL.
	ExternalURL string `json:"externalURL"`
	// Alerts of the group, firing and (with send_resolved) resolved.
	Alerts []Alert `json:"alerts"`
}

// Alert is one alert of a notification.
type Alert struct {
	// Status is StatusFiring or StatusResolved.
	Status string `json:"status"`
	// Labels identify the alert; "alertname" names the rule.
	Labels map[string]string `json:"labels"`
	// Annotations carry text such as "summary" and "description".
	Annotations map[string]string `json:"annotations"`
	// StartsAt is when the alert started firing.
	StartsAt time.Time `json:"startsAt"`
	// EndsAt is when it resolved, or a time in the future (or zero) while
	// it fires.
	EndsAt time.Time `json:"endsAt"`
	// GeneratorURL links to the expression in Prometheus.
	GeneratorURL string `json:"generatorURL"`
	// Fingerprint is Alertmanager's hash of the labels.
	Fingerprint string `json:"fingerprint"`
}

// Decode reads one notification of at most MaxBodyBytes from r and checks
// its envelope: JSON object, version "4", a known status, at least one
// alert, each with a known status. Unknown fields are allowed, so a newer
// Alertmanager that adds fields still works. Errors wrap ErrInvalid or
// ErrTooLarge, or are r's read error.
func Decode(r io.Reader) (*Message, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read alertmanager notification: %w", err)
	}
	if len(body) > MaxBodyBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxBodyBytes)
	}
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrInvalid)
	}
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: not a JSON webhook payload: %w", ErrInvalid, err)
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *Message) validate() error {
	if m.Version != Version {
		return fmt.Errorf("%w: version %q, want %q", ErrInvalid, m.Version, Version)
	}
	if !validStatus(m.Status) {
		return fmt.Errorf("%w: status %q, want %q or %q", ErrInvalid, m.Status, StatusFiring, StatusResolved)
	}
	if len(m.Alerts) == 0 {
		return fmt.Errorf("%w: no alerts", ErrInvalid)
	}
	for i, a := range m.Alerts {
		if !validStatus(a.Status) {
			return fmt.Errorf("%w: alert %d: status %q, want %q or %q", ErrInvalid, i, a.Status, StatusFiring, StatusResolved)
		}
	}
	return nil
}

func validStatus(s string) bool { return s == StatusFiring || s == StatusResolved }
