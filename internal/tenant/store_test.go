package tenant_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"onair/internal/natstest"
	"onair/internal/tenant"
)

// newJetStream starts an embedded JetStream server (internal/natstest).
func newJetStream(t *testing.T) jetstream.JetStream { return natstest.JetStream(t, "tenant-test") }

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func newStore(t *testing.T) (*tenant.Store, jetstream.JetStream, *clock) {
	t.Helper()
	js := newJetStream(t)
	clk := newClock()
	return tenant.New(js, tenant.Config{Now: clk.Now}, nil), js, clk
}

func mustTenant(t *testing.T, s *tenant.Store, id string) {
	t.Helper()
	if _, err := s.CreateTenant(ctx(t), id, ""); err != nil {
		t.Fatalf("CreateTenant %s: %v", id, err)
	}
}

func mustKey(t *testing.T, s *tenant.Store, tn string, role tenant.Role) (tenant.APIKey, string) {
	t.Helper()
	k, plain, err := s.CreateKey(ctx(t), tn, role, "test key")
	if err != nil {
		t.Fatalf("CreateKey %s %s: %v", tn, role, err)
	}
	return k, plain
}
