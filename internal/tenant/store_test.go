package tenant_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"onair/internal/tenant"
)

// newJetStream starts an embedded, non-listening NATS server with
// JetStream in a temporary directory (onair's internal/store pattern).
func newJetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	ns, err := server.NewServer(&server.Options{
		ServerName: "tenant-test",
		DontListen: true,
		JetStream:  true,
		StoreDir:   t.TempDir(),
		NoSigs:     true,
		NoLog:      true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("embedded nats did not start within 10s")
	}
	nc, err := nats.Connect(ns.ClientURL(), nats.InProcessServer(ns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

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
