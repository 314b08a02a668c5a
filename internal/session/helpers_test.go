package session

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/kms"
	"onair/internal/natstest"
)

// testNATS is an embedded JetStream server (internal/natstest) and a
// first client connection.
type testNATS struct {
	dir string // the JetStream store directory
	srv *natstest.Server
	js  jetstream.JetStream
}

func startNATS(t *testing.T) *testNATS {
	t.Helper()
	srv := natstest.Start(t, "session-test")
	return &testNATS{dir: srv.Dir, srv: srv, js: srv.Connect(t)}
}

// connect opens another client connection (another "node").
func (n *testNATS) connect(t *testing.T) jetstream.JetStream { return n.srv.Connect(t) }

// newKeyring makes random KEKs; the first id is current.
func newKeyring(t *testing.T, ids ...string) kms.Keyring {
	t.Helper()
	var r kms.Keyring
	for _, id := range ids {
		k, err := kms.GenerateKEK(id, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		r.KEKs = append(r.KEKs, k)
	}
	r.Current = ids[0]
	return r
}

func localKMS(t *testing.T, r kms.Keyring) *kms.Local {
	t.Helper()
	l, err := kms.NewLocal(r)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// newLocal builds a local KMS with random KEKs; the first id is current.
func newLocal(t *testing.T, ids ...string) *kms.Local {
	t.Helper()
	return localKMS(t, newKeyring(t, ids...))
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

func testCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// newStore builds a Store with its own registry.
func newStore(t *testing.T, js jetstream.JetStream, k kms.KMS, cfg Config) (*Store, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := New(js, k, cfg, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	return s, reg
}

// fixture is a store on a fresh server with a settable clock.
type fixture struct {
	n    *testNATS
	ring kms.Keyring
	kms  *kms.Local
	clk  *clock
	s    *Store
	reg  *prometheus.Registry
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{n: startNATS(t), ring: newKeyring(t, "kek-1"), clk: newClock()}
	f.kms = localKMS(t, f.ring)
	f.s, f.reg = newStore(t, f.n.js, f.kms, Config{Now: f.clk.Now})
	return f
}

// session is a valid new session on channel of tenant.
func (f *fixture) session(tenant, channel, id string) Session {
	return Session{ID: id, Tenant: tenant, Channel: channel, TokenExpires: f.clk.Now().Add(4 * time.Hour),
		PII: PII{IP: "198.51.100.7", UserAgent: "Mozilla/5.0 test", UserID: "viewer-" + id}}
}

func (f *fixture) create(t *testing.T, tenant, channel, id string) Session {
	t.Helper()
	s, err := f.s.Create(testCtx(t), f.session(tenant, channel, id))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// raw reads a session's stored entry straight from the bucket.
func raw(t *testing.T, js jetstream.JetStream, bucket, key string) jetstream.KeyValueEntry {
	t.Helper()
	kv, err := js.KeyValue(testCtx(t), bucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(testCtx(t), key)
	if err != nil {
		t.Fatalf("raw get %s: %v", key, err)
	}
	return e
}

// eventually polls cond every 10 ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runRevocations starts r.Run and waits for Ready.
func runRevocations(t *testing.T, js jetstream.JetStream, cfg RevocationsConfig) *Revocations {
	t.Helper()
	r, err := NewRevocations(cfg, nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, js) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil on cancel", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return within 5s of cancel")
		}
	})
	select {
	case <-r.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("revocations not ready within 10s")
	}
	return r
}
