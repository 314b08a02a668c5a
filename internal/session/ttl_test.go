package session

import (
	"errors"
	"testing"
	"time"
)

// TestTTL uses real time (the smallest TTL JetStream takes is 1 s, in
// whole seconds; 2 s leaves room): an idle session expires, a touched one
// survives, and an expired revocation leaves edges' sets through the
// expiry marker, without the sweep.
func TestTTL(t *testing.T) {
	t.Parallel()
	n := startNATS(t)
	s, _ := newStore(t, n.js, newLocal(t, "k"), Config{TTL: 2 * time.Second, Leeway: time.Millisecond})
	ctx := testCtx(t)
	mk := func(id string, token time.Duration) {
		t.Helper()
		if _, err := s.Create(ctx, Session{ID: id, Channel: "news", TokenExpires: time.Now().Add(token), PII: PII{IP: "192.0.2.9"}}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	mk("idle", time.Hour)
	mk("busy", time.Hour)
	mk("revoked", time.Second)
	if err := s.Revoke(ctx, "", "news", "revoked"); err != nil { // TTL max(2 s, 1 s + leeway)
		t.Fatal(err)
	}
	r := runRevocations(t, n.connect(t), RevocationsConfig{Sweep: time.Hour})
	if !r.Revoked("", "news", "revoked") {
		t.Fatal("revocation not in the set at Ready")
	}

	exists := func(id string) bool {
		_, err := s.Get(ctx, "", "news", id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	// Touch "busy" every 300 ms (the window is TTL/8 = 250 ms) until
	// "idle" is gone.
	for exists("idle") {
		if time.Since(start) > 8*time.Second {
			t.Fatal("idle session still there 8 s after creation, TTL 2 s")
		}
		if err := s.Touch(ctx, "", "news", "busy"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if gone := time.Since(start); gone < 2*time.Second {
		t.Fatalf("idle session gone after %v, before its TTL", gone)
	}
	if !exists("busy") {
		t.Fatal("touched session expired with the idle one")
	}
	if err := s.Check(ctx, "", "news", "idle"); !errors.Is(err, ErrRevoked) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("Check(expired) = %v", err)
	}
	eventually(t, 3*time.Second, "expired revocation leaves the set (expiry marker)", func() bool { return !r.Revoked("", "news", "revoked") })
	eventually(t, 4*time.Second, "untouched session expires", func() bool { return !exists("busy") })
}
