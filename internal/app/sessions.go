package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/config"
	"onair/internal/control"
	"onair/internal/kms"
	"onair/internal/license"
	"onair/internal/session"
	"onair/internal/signing"
	"onair/internal/store"
)

// noTenant stands for "no tenant" in viewer tokens, whose tenant claim
// cannot be empty; tenant ids never start with '-'.
const noTenant = "-"

// tokenTenant is a channel's tenant as viewer tokens carry it.
func tokenTenant(t string) string {
	if t == "" {
		return noTenant
	}
	return t
}

// channelTenant is the inverse of tokenTenant.
func channelTenant(t string) string {
	if t == noTenant {
		return ""
	}
	return t
}

// Sessions implements control.Manager.
func (m *channels) Sessions(ctx context.Context, name string) ([]control.ViewerSession, error) {
	rec, err := m.channelRecord(ctx, name)
	if err != nil {
		return nil, err
	}
	if m.sessions == nil {
		return nil, fmt.Errorf("%w: viewer sessions are off (sessions.enabled)", control.ErrConflict)
	}
	ss, err := m.sessions.List(ctx, rec.Tenant, rec.Name)
	if err != nil {
		return nil, err
	}
	out := make([]control.ViewerSession, 0, len(ss))
	for _, s := range ss {
		v := control.ViewerSession{ID: s.ID, Channel: s.Channel, Tenant: s.Tenant, Created: s.Created,
			Refreshed: s.Refreshed, Expires: s.Refreshed.Add(m.cfg.Sessions.TTL), TokenExpires: s.TokenExpires,
			IP: s.PII.IP, UserAgent: s.PII.UserAgent, UserID: s.PII.UserID}
		if !s.Revoked.IsZero() {
			r := s.Revoked
			v.Revoked = &r
		}
		out = append(out, v)
	}
	return out, nil
}

// RevokeSession implements control.Manager.
func (m *channels) RevokeSession(ctx context.Context, name, id string) error {
	rec, err := m.channelRecord(ctx, name)
	if err != nil {
		return err
	}
	if m.sessions == nil {
		return fmt.Errorf("%w: viewer sessions are off (sessions.enabled)", control.ErrConflict)
	}
	err = m.sessions.Revoke(ctx, rec.Tenant, rec.Name, id)
	if errors.Is(err, session.ErrNotFound) || errors.Is(err, session.ErrInvalid) {
		return fmt.Errorf("%w: session %s of channel %s", control.ErrNotFound, id, name)
	}
	if err != nil {
		return err
	}
	m.log.Info("viewer session revoked", "channel", name, "session", id)
	return nil
}

// channelRecord reads a channel's record; ErrNotFound for none.
func (m *channels) channelRecord(ctx context.Context, name string) (store.Channel, error) {
	rec, err := m.st.GetChannel(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.Channel{}, fmt.Errorf("%w: channel %s", control.ErrNotFound, name)
	}
	return rec, err
}

// recordSession stores the session of a viewer token just issued.
func (m *channels) recordSession(ctx context.Context, rec store.Channel, id string, req control.TokenRequest, expires time.Time) error {
	if m.sessions == nil {
		return nil
	}
	_, err := m.sessions.Create(ctx, session.Session{ID: id, Tenant: rec.Tenant, Channel: rec.Name, TokenExpires: expires,
		PII: session.PII{IP: req.IP, UserAgent: req.UserAgent, UserID: req.UserID}})
	switch {
	case errors.Is(err, session.ErrExists):
		// Another token for a session already recorded (a renewal):
		// refresh it, unless it was revoked.
		s, gerr := m.sessions.Get(ctx, rec.Tenant, rec.Name, id)
		if gerr != nil {
			return gerr
		}
		if !s.Revoked.IsZero() {
			return fmt.Errorf("%w: session %s was revoked: start a new one", control.ErrConflict, id)
		}
		return m.sessions.Touch(ctx, rec.Tenant, rec.Name, id)
	case errors.Is(err, session.ErrInvalid):
		return fmt.Errorf("%w: %v", control.ErrInvalid, err)
	}
	return err
}

// viewerSessions is serve's side of viewer sessions: the store (nil when
// sessions.enabled is off), the revoked set the edge consults, and the
// license endpoint's check.
type viewerSessions struct {
	store   *session.Store
	revoked *session.Revocations
	js      jetstream.JetStream
	log     *slog.Logger
}

// newViewerSessions opens the session store on js, its personal data
// sealed with k's data keys.
func newViewerSessions(cfg config.Config, js jetstream.JetStream, k kms.KMS, log *slog.Logger, reg prometheus.Registerer) (*viewerSessions, error) {
	v := &viewerSessions{js: js, log: log.With("role", "sessions")}
	if !cfg.Sessions.Enabled {
		return v, nil
	}
	st, err := session.New(js, k, session.Config{TTL: cfg.Sessions.TTL}, v.log, reg)
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	v.store = st
	if v.revoked, err = session.NewRevocations(session.RevocationsConfig{}, v.log, reg); err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	return v, nil
}

// run keeps the revoked set current until ctx ends.
func (v *viewerSessions) run(ctx context.Context) error {
	if v.revoked == nil {
		return nil
	}
	return v.revoked.Run(ctx, v.js)
}

// admit is the edge's session check: a revoked session's tokens are
// refused; others refresh their session (the store writes at most once
// every TTL/8 per session).
func (v *viewerSessions) admit(r *http.Request, c *signing.Claims) bool {
	if v.revoked == nil {
		return true
	}
	if v.revoked.Revoked(c.Tenant, c.Channel, c.Session) {
		return false
	}
	if err := v.store.Touch(r.Context(), c.Tenant, c.Channel, c.Session); err != nil && !errors.Is(err, session.ErrNotFound) {
		v.log.Debug("session not refreshed", "channel", c.Channel, "session", c.Session, "err", err)
	}
	return true
}

// check is the license endpoint's session check: keys only for a live,
// unrevoked session.
func (v *viewerSessions) check(ctx context.Context, tenant, channel, id string) error {
	if v == nil || v.store == nil {
		return nil
	}
	err := v.store.Check(ctx, channelTenant(tenant), channel, id)
	if errors.Is(err, session.ErrRevoked) {
		return fmt.Errorf("%w: %v", license.ErrRevoked, err)
	}
	if err != nil {
		return err
	}
	_ = v.store.Touch(ctx, channelTenant(tenant), channel, id)
	return nil
}
