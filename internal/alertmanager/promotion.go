package alertmanager

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"onair/internal/live"
)

// Labels and values onair's alert rules set (deploy/prometheus/onair-rules.yml).
const (
	// ActionLabel names what an alert asks onair to do.
	ActionLabel = "onair_action"
	// ActionPromoteStandby asks for the standby pipeline of the alert's
	// channel to be promoted.
	ActionPromoteStandby = "promote_standby"
	// ChannelLabel holds the onair channel name.
	ChannelLabel = "channel"
	// PipelineLabel holds the faulty pipeline, "a" or "b".
	PipelineLabel = "pipeline"
	// AlertNameLabel is Prometheus' label for the rule name.
	AlertNameLabel = "alertname"
	// SummaryAnnotation is the annotation Reason is built from.
	SummaryAnnotation = "summary"
)

// MaxReasonBytes bounds Promotion.Reason; longer text is cut with "…".
const MaxReasonBytes = 256

// Promotion is one request, from one firing alert, to promote the standby
// pipeline of a channel because its active pipeline failed.
type Promotion struct {
	// Channel is the onair channel name (^[a-z0-9][a-z0-9-]{0,62}$).
	Channel string
	// Pipeline is the pipeline the alert found faulty: "a" or "b", the
	// active one when the rule fired. The receiver should promote only if
	// it is still the active one.
	Pipeline string
	// Alert is the alert's name (label alertname), e.g.
	// "OnairPipelineManifestStale".
	Alert string
	// Reason is one line for logs and events: the alert name and its
	// summary annotation, or its labels when it has no summary. Printable,
	// at most MaxReasonBytes.
	Reason string
	// StartsAt is when the alert started firing.
	StartsAt time.Time
	// Fingerprint is Alertmanager's identity of the alert (may be empty).
	Fingerprint string
}

// Parse decodes one webhook notification (see Decode) and returns the
// promotions it asks for, in the order of its alerts; none (and no error)
// when no alert asks for one.
func Parse(r io.Reader) ([]Promotion, error) {
	m, err := Decode(r)
	if err != nil {
		return nil, err
	}
	return m.Promotions()
}

// Promotions returns one Promotion per firing alert whose ActionLabel is
// ActionPromoteStandby. Resolved alerts and alerts without ActionLabel are
// skipped. An action alert with another action value, without alertname,
// with a malformed channel or pipeline, or without startsAt makes the whole
// message invalid (the error wraps ErrInvalid and names the alert).
func (m *Message) Promotions() ([]Promotion, error) {
	var out []Promotion
	for i, a := range m.Alerts {
		if a.Status != StatusFiring {
			continue
		}
		action, ok := a.Labels[ActionLabel]
		if !ok || action == "" {
			continue
		}
		p, err := promotion(a, action)
		if err != nil {
			return nil, fmt.Errorf("%w: alert %d: %w", ErrInvalid, i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func promotion(a Alert, action string) (Promotion, error) {
	name := a.Labels[AlertNameLabel]
	if name == "" {
		return Promotion{}, fmt.Errorf("no %s label", AlertNameLabel)
	}
	if action != ActionPromoteStandby {
		return Promotion{}, fmt.Errorf("%s: unknown %s %q, want %q", name, ActionLabel, action, ActionPromoteStandby)
	}
	ch := a.Labels[ChannelLabel]
	if !live.ValidChannelName(ch) {
		return Promotion{}, fmt.Errorf("%s: %s label %q is not a channel name (^[a-z0-9][a-z0-9-]{0,62}$)", name, ChannelLabel, ch)
	}
	pl := a.Labels[PipelineLabel]
	if pl != "a" && pl != "b" {
		return Promotion{}, fmt.Errorf("%s: %s label %q, want \"a\" or \"b\"", name, PipelineLabel, pl)
	}
	if a.StartsAt.IsZero() {
		return Promotion{}, fmt.Errorf("%s: no startsAt", name)
	}
	return Promotion{
		Channel:     ch,
		Pipeline:    pl,
		Alert:       name,
		Reason:      reason(name, a),
		StartsAt:    a.StartsAt,
		Fingerprint: a.Fingerprint,
	}, nil
}

// reason is "<alertname>: <summary>", or "<alertname> {k="v", ...}" with
// the labels other than alertname and the action when there is no summary.
func reason(name string, a Alert) string {
	if s := strings.TrimSpace(a.Annotations[SummaryAnnotation]); s != "" {
		return oneLine(name+": "+s, MaxReasonBytes)
	}
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		if k != AlertNameLabel && k != ActionLabel {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(name)
	b.WriteString(" {")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%q", k, a.Labels[k])
	}
	b.WriteString("}")
	return oneLine(b.String(), MaxReasonBytes)
}

// oneLine replaces runs of whitespace and control characters with one
// space and cuts s to at most max bytes on a rune boundary, ending in "…".
func oneLine(s string, max int) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	out := b.String()
	if len(out) <= max {
		return out
	}
	const ellipsis = "…"
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(out[cut]) {
		cut--
	}
	return out[:cut] + ellipsis
}
