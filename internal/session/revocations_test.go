package session

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRevocationsWatch(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	for _, k := range [][3]string{{"acme", "news", "r1"}, {"acme", "news", "r2"}, {"", "news", "r3"}, {"acme", "sport", "r4"}} {
		f.create(t, k[0], k[1], k[2])
	}
	// Revoked before the watcher starts: in the initial values.
	if err := f.s.Revoke(ctx, "acme", "news", "r1"); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	r, err := NewRevocations(RevocationsConfig{Now: f.clk.Now}, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx, f.n.connect(t)) }()
	select {
	case <-r.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("not ready within 10s")
	}
	if !r.Revoked("acme", "news", "r1") || r.Revoked("acme", "news", "r2") || r.Len() != 1 {
		t.Fatalf("at Ready: r1 %v, r2 %v, len %d; want only r1", r.Revoked("acme", "news", "r1"), r.Revoked("acme", "news", "r2"), r.Len())
	}

	// Revoked while watching: seen within 2 s.
	for _, k := range [][3]string{{"", "news", "r3"}, {"acme", "sport", "r4"}} {
		if err := f.s.Revoke(ctx, k[0], k[1], k[2]); err != nil {
			t.Fatal(err)
		}
		eventually(t, 2*time.Second, "revocation of "+k[2]+" reaches the watcher", func() bool { return r.Revoked(k[0], k[1], k[2]) })
	}
	for _, k := range [][3]string{{"acme", "news", "r2"}, {"", "news", "r1"}, {"acme", "news", "r3"}, {"acme", "news", "nope"}} {
		if r.Revoked(k[0], k[1], k[2]) {
			t.Errorf("Revoked(%q, %q, %q) = true", k[0], k[1], k[2])
		}
	}
	if got := testutil.ToFloat64(r.size); got != 3 {
		t.Fatalf("onair_session_revocations = %v, want 3", got)
	}
	// Touches of live sessions change nothing.
	f.clk.Advance(time.Hour)
	if err := f.s.Touch(ctx, "acme", "news", "r2"); err != nil {
		t.Fatal(err)
	}

	// A deleted channel's sessions leave the set.
	if err := f.s.DeleteChannel(ctx, "acme", "news"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "deleted channel's revocation leaves the set", func() bool { return !r.Revoked("acme", "news", "r1") })
	if !r.Revoked("", "news", "r3") || !r.Revoked("acme", "sport", "r4") || r.Len() != 2 {
		t.Fatalf("other channels' revocations: r3 %v, r4 %v, len %d", r.Revoked("", "news", "r3"), r.Revoked("acme", "sport", "r4"), r.Len())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil on cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of cancel")
	}
	if r.Revoked("", "news", "r3") != true {
		t.Fatal("set lost after Run returned")
	}
}

// TestRevocationsBeforeBucket: an edge that starts before any session
// exists is ready at once, and picks the bucket up when it appears.
func TestRevocationsBeforeBucket(t *testing.T) {
	f := newFixture(t)
	r := runRevocations(t, f.n.connect(t), RevocationsConfig{Now: f.clk.Now})
	if r.Len() != 0 {
		t.Fatalf("len %d", r.Len())
	}
	f.create(t, "", "news", "late")
	if err := f.s.Revoke(testCtx(t), "", "news", "late"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 8*time.Second, "revocation seen once the bucket exists", func() bool { return r.Revoked("", "news", "late") })
}

// TestRevocationsSweep: entries whose token expired (plus leeway) leave the
// set even when no expiry event comes.
func TestRevocationsSweep(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	in := f.session("", "news", "short")
	in.TokenExpires = f.clk.Now().Add(time.Minute)
	if _, err := f.s.Create(ctx, in); err != nil {
		t.Fatal(err)
	}
	f.create(t, "", "news", "long") // token for 4 h
	for _, id := range []string{"short", "long"} {
		if err := f.s.Revoke(ctx, "", "news", id); err != nil {
			t.Fatal(err)
		}
	}
	r := runRevocations(t, f.n.connect(t), RevocationsConfig{Now: f.clk.Now, Leeway: time.Minute, Sweep: 20 * time.Millisecond})
	if !r.Revoked("", "news", "short") || !r.Revoked("", "news", "long") {
		t.Fatal("revocations missing at Ready")
	}
	f.clk.Advance(2*time.Minute + time.Second)
	eventually(t, 2*time.Second, "expired token swept", func() bool { return !r.Revoked("", "news", "short") })
	if !r.Revoked("", "news", "long") {
		t.Fatal("live token swept")
	}
}

func TestRevocationsApply(t *testing.T) {
	r, err := NewRevocations(RevocationsConfig{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)
	revoked, _ := json.Marshal(record{V: 1, ID: "a", Channel: "news", Revoked: exp.Add(-time.Hour), TokenExpires: exp, DEK: "20260301"})
	live, _ := json.Marshal(record{V: 1, ID: "a", Channel: "news", TokenExpires: exp, DEK: "20260301"})
	cur := map[revKey]time.Time{}
	k := revKey{"", "news", "a"}
	for _, tc := range []struct {
		name    string
		e       entry
		changed bool
		in      bool
	}{
		{"live put", entry{key: "_.news.a", value: live}, false, false},
		{"revoked put", entry{key: "_.news.a", value: revoked}, true, true},
		{"same again", entry{key: "_.news.a", value: revoked}, false, true},
		{"foreign key", entry{key: "dek.20260301", value: revoked}, false, true},
		{"garbage", entry{key: "_.news.a", value: []byte("{")}, false, true},
		{"expired", entry{key: "_.news.a", op: jetstream.KeyValuePurge}, true, false},
		{"deleted again", entry{key: "_.news.a", op: jetstream.KeyValueDelete}, false, false},
		{"revoked then un-revoked", entry{key: "_.news.a", value: revoked}, true, true},
		{"un-revoked", entry{key: "_.news.a", value: live}, true, false},
	} {
		if got := r.apply(cur, tc.e); got != tc.changed {
			t.Errorf("%s: changed = %v, want %v", tc.name, got, tc.changed)
		}
		if _, in := cur[k]; in != tc.in {
			t.Errorf("%s: in set = %v, want %v", tc.name, in, tc.in)
		}
	}
}

// entry is a jetstream.KeyValueEntry for apply.
type entry struct {
	key   string
	value []byte
	op    jetstream.KeyValueOp
}

func (e entry) Bucket() string                  { return DefaultBucket }
func (e entry) Key() string                     { return e.key }
func (e entry) Value() []byte                   { return e.value }
func (e entry) Revision() uint64                { return 1 }
func (e entry) Created() time.Time              { return time.Time{} }
func (e entry) Delta() uint64                   { return 0 }
func (e entry) Operation() jetstream.KeyValueOp { return e.op }

// TestRevocationsRewatch: when the bucket is deleted under the watch, the
// periodic check notices, the set empties and the watch comes back on the
// new bucket.
func TestRevocationsRewatch(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	f.create(t, "", "news", "old")
	if err := f.s.Revoke(ctx, "", "news", "old"); err != nil {
		t.Fatal(err)
	}
	r := runRevocations(t, f.n.connect(t), RevocationsConfig{Now: f.clk.Now, Sweep: 100 * time.Millisecond})
	if !r.Revoked("", "news", "old") {
		t.Fatal("not revoked at Ready")
	}
	if err := f.n.js.DeleteKeyValue(ctx, DefaultBucket); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "set emptied after the bucket was deleted", func() bool { return r.Len() == 0 })
	s, _ := newStore(t, f.n.js, f.kms, Config{Now: f.clk.Now}) // a new node makes the bucket again
	if _, err := s.Create(ctx, f.session("", "news", "new")); err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctx, "", "news", "new"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "revocation on the new bucket seen", func() bool { return r.Revoked("", "news", "new") })
	if got := testutil.ToFloat64(r.restarts); got < 1 {
		t.Fatalf("watch restarts = %v, want at least 1", got)
	}
}
