package session

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"
)

// Limits on personal data, in bytes.
const (
	// MaxIP is the longest IP accepted (an IPv6 address with a zone fits).
	MaxIP = 64
	// MaxUserID is the longest user id accepted.
	MaxUserID = 256
	// MaxUserAgent is where a longer user agent is cut (at a UTF-8
	// boundary): clients send anything, and a session must not fail for it.
	MaxUserAgent = 512
)

// PII is a session's personal data. It is stored only encrypted (see the
// package doc) and redacted when logged or formatted with %v; JSON shows
// it (the API's answer).
type PII struct {
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	UserID    string `json:"user_id,omitempty"`
}

// LogValue keeps personal data out of logs.
func (p PII) LogValue() slog.Value { return slog.StringValue(p.String()) }

// String keeps personal data out of formatted errors and logs.
func (p PII) String() string {
	if p == (PII{}) {
		return "[none]"
	}
	return "[redacted]"
}

// Session is one viewer session, as the API shows it. Times are UTC.
type Session struct {
	// ID is the session id (ValidID), also carried in the viewer's token.
	ID string `json:"id"`
	// Tenant owns the channel; "" for none.
	Tenant string `json:"tenant"`
	// Channel is the channel the token is for.
	Channel string `json:"channel"`
	// Created is when the session was stored (set by Create).
	Created time.Time `json:"created"`
	// Refreshed is the last time playback refreshed it (Create, Touch).
	Refreshed time.Time `json:"refreshed"`
	// TokenExpires is the viewer token's expiry: a revoked session is kept
	// (and enforced at edges) until then plus Config.Leeway.
	TokenExpires time.Time `json:"token_expires"`
	// Revoked is when the session was revoked; zero (omitted) if it is not.
	Revoked time.Time `json:"revoked,omitzero"`
	// PII is the decrypted personal data; empty when its data key has been
	// shredded (a revoked session kept longer than the key horizon).
	PII PII `json:"pii"`
}

// LogValue logs a session without its personal data.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", s.ID), slog.String("tenant", s.Tenant), slog.String("channel", s.Channel),
		slog.Time("created", s.Created), slog.Time("revoked", s.Revoked))
}

// recordVersion is the version of the stored JSON record.
const recordVersion = 1

// record is what the sessions bucket stores: no personal data in clear.
// PII is AES-256-GCM nonce||ciphertext of the PII JSON under data key
// DEK, with the KV key as additional data.
type record struct {
	V            int       `json:"v"`
	ID           string    `json:"id"`
	Tenant       string    `json:"tenant"`
	Channel      string    `json:"channel"`
	Created      time.Time `json:"created"`
	Refreshed    time.Time `json:"refreshed"`
	TokenExpires time.Time `json:"token_expires"`
	Revoked      time.Time `json:"revoked"`
	DEK          string    `json:"dek"`
	PII          []byte    `json:"pii"` // base64 in JSON
}

// decodeRecord parses a stored record and checks it belongs under key.
func decodeRecord(key string, data []byte) (record, error) {
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return record{}, fmt.Errorf("session record %s: %w", key, err)
	}
	if r.V != recordVersion {
		return record{}, fmt.Errorf("session record %s: version %d, want %d", key, r.V, recordVersion)
	}
	if err := checkKey(r.Tenant, r.Channel, r.ID); err != nil {
		return record{}, fmt.Errorf("session record %s: %w", key, err)
	}
	if kvKey(r.Tenant, r.Channel, r.ID) != key {
		return record{}, fmt.Errorf("session record %s: holds session %s", key, kvKey(r.Tenant, r.Channel, r.ID))
	}
	if !validDayID(r.DEK) {
		return record{}, fmt.Errorf("session record %s: data key id %q is not YYYYMMDD", key, r.DEK)
	}
	return r, nil
}

// session is r without personal data.
func (r record) session() Session {
	return Session{ID: r.ID, Tenant: r.Tenant, Channel: r.Channel, Created: r.Created, Refreshed: r.Refreshed,
		TokenExpires: r.TokenExpires, Revoked: r.Revoked}
}

// normalize validates s for Create and cuts an over-long user agent.
func normalize(s Session, now time.Time) (Session, error) {
	if err := checkKey(s.Tenant, s.Channel, s.ID); err != nil {
		return Session{}, err
	}
	switch {
	case s.TokenExpires.IsZero():
		return Session{}, fmt.Errorf("session %s: token_expires is required: %w", s.ID, ErrInvalid)
	case !s.TokenExpires.After(now):
		return Session{}, fmt.Errorf("session %s: token_expires %s is not in the future: %w", s.ID, s.TokenExpires.UTC().Format(time.RFC3339), ErrInvalid)
	case !s.Revoked.IsZero():
		return Session{}, fmt.Errorf("session %s: a new session cannot be revoked: %w", s.ID, ErrInvalid)
	case len(s.PII.IP) > MaxIP:
		return Session{}, fmt.Errorf("session %s: ip longer than %d bytes: %w", s.ID, MaxIP, ErrInvalid)
	case len(s.PII.UserID) > MaxUserID:
		return Session{}, fmt.Errorf("session %s: user_id longer than %d bytes: %w", s.ID, MaxUserID, ErrInvalid)
	}
	s.PII.UserAgent = cut(s.PII.UserAgent, MaxUserAgent)
	s.TokenExpires = s.TokenExpires.UTC().Round(0)
	return s, nil
}

// cut shortens s to at most n bytes without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
