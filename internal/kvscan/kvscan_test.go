package kvscan_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"onair/internal/kvscan"
	"onair/internal/natstest"
)

// Each sees the live entries under the filter only: not deleted ones,
// not other prefixes; fn's error stops it and comes back unchanged.
func TestEach(t *testing.T) {
	ctx := t.Context()
	kv, err := natstest.JetStream(t, "kvscan-test").CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "scan"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a.x", "a.y", "a.z", "b.x"} {
		if _, err := kv.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := kv.Delete(ctx, "a.y"); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := kvscan.Each(ctx, kv, "a.*", func(e jetstream.KeyValueEntry) error {
		got = append(got, e.Key())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"a.x", "a.z"}) {
		t.Errorf("Each a.*: %v, want [a.x a.z]", got)
	}
	stop := errors.New("stop")
	n := 0
	err = kvscan.Each(ctx, kv, ">", func(jetstream.KeyValueEntry) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("fn's error: got %v after %d calls, want it unchanged after 1", err, n)
	}
	if err := kvscan.Each(ctx, kv, "none.*", func(jetstream.KeyValueEntry) error { return stop }); err != nil {
		t.Errorf("empty filter: %v", err)
	}
}
