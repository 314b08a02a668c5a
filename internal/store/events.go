package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// EventsSubject prefixes every event subject:
// onair.events.{kind}.{channel}, kind being dot-separated words such as
// "edge.manifest_age.raised".
const EventsSubject = "onair.events"

// eventsStream keeps the events of the last day for the API.
const eventsStream = "ONAIR_EVENTS"

// Event is a decision or an observation an operator (or a controller)
// acts on: what happened, to which channel, where and why.
type Event struct {
	At      time.Time      `json:"at"`
	Kind    string         `json:"kind"`
	Channel string         `json:"channel,omitempty"`
	Source  string         `json:"source,omitempty"` // the process and role that saw it
	Reason  string         `json:"reason"`
	Data    map[string]any `json:"data,omitempty"`
}

// Subject returns the NATS subject e is published on.
func (e Event) Subject() string {
	ch := e.Channel
	if ch == "" {
		ch = "_"
	}
	return EventsSubject + "." + e.Kind + "." + ch
}

func (e Event) validate() error {
	if e.Kind == "" || e.Reason == "" {
		return errors.New("an event needs a kind and a reason")
	}
	for _, tok := range strings.Split(e.Kind, ".") {
		if !subjectToken(tok) {
			return fmt.Errorf("event kind %q: want dot-separated words of a-z, 0-9, _ and -", e.Kind)
		}
	}
	if e.Channel != "" && !subjectToken(e.Channel) {
		return fmt.Errorf("event channel %q is not a subject token", e.Channel)
	}
	return nil
}

func subjectToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func encodeEvent(e Event) (string, []byte, error) {
	if err := e.validate(); err != nil {
		return "", nil, fmt.Errorf("store: %w", err)
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	data, err := json.Marshal(e)
	if err != nil {
		return "", nil, fmt.Errorf("store: encode event: %w", err)
	}
	return e.Subject(), data, nil
}

// openEvents creates (or updates) the stream that keeps events.
func openEvents(ctx context.Context, js jetstream.JetStream) (jetstream.Stream, error) {
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        eventsStream,
		Description: "onair events: failover decisions, alarms",
		Subjects:    []string{EventsSubject + ".>"},
		MaxAge:      24 * time.Hour,
		MaxMsgs:     100_000,
		Discard:     jetstream.DiscardOld,
	})
	if err != nil {
		return nil, fmt.Errorf("store: stream %s: %w", eventsStream, err)
	}
	return st, nil
}

// PublishEvent publishes e (At defaults to now) and keeps it for a day.
func (s *Store) PublishEvent(ctx context.Context, e Event) error {
	subject, data, err := encodeEvent(e)
	if err != nil {
		return err
	}
	if _, err := s.js.Publish(ctx, subject, data); err != nil {
		return fmt.Errorf("store: publish %s: %w", subject, err)
	}
	return nil
}

// maxEventScan bounds how many stored events Events reads.
const maxEventScan = 10_000

// Events returns up to n of the newest events, newest first; with
// channel set, only that channel's.
func (s *Store) Events(ctx context.Context, channel string, n int) ([]Event, error) {
	info, err := s.events.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	var out []Event
	for seq, scanned := info.State.LastSeq, 0; seq >= info.State.FirstSeq && seq > 0 && len(out) < n && scanned < maxEventScan; seq, scanned = seq-1, scanned+1 {
		msg, err := s.events.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store: event %d: %w", seq, err)
		}
		var e Event
		if json.Unmarshal(msg.Data, &e) != nil || (channel != "" && e.Channel != channel) {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// EventPublisher publishes events to a NATS server without the rest of
// the store: what a standalone edge needs.
type EventPublisher struct {
	nc *nats.Conn
}

// DialEvents connects to the NATS server at url for publishing events.
func DialEvents(url, name string) (*EventPublisher, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("store: connect %s: %w", url, err)
	}
	return &EventPublisher{nc: nc}, nil
}

// Publish sends e (At defaults to now). Events are fire-and-forget here:
// a server with onair's events stream keeps them.
func (p *EventPublisher) Publish(e Event) error {
	subject, data, err := encodeEvent(e)
	if err != nil {
		return err
	}
	if err := p.nc.Publish(subject, data); err != nil {
		return fmt.Errorf("store: publish %s: %w", subject, err)
	}
	return nil
}

// JetStream returns a JetStream handle on the same connection (an edge
// watches the viewer-session bucket through it).
func (p *EventPublisher) JetStream() (jetstream.JetStream, error) {
	js, err := jetstream.New(p.nc)
	if err != nil {
		return nil, fmt.Errorf("store: jetstream: %w", err)
	}
	return js, nil
}

// Close drains and closes the connection.
func (p *EventPublisher) Close() { _ = p.nc.Drain() }
