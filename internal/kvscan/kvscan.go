// Package kvscan reads the current entries of a JetStream KV bucket that
// match a subject filter, without holding them all at once. It imports
// only the NATS client; safe for concurrent use (it keeps no state).
package kvscan

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Each calls fn for every live entry of kv whose key matches filter
// ("a.*", "a.b.>"), as the bucket holds them now; deleted entries are
// skipped. It stops at fn's first error and returns it unchanged; its own
// errors name the bucket and filter.
func Each(ctx context.Context, kv jetstream.KeyValue, filter string, fn func(jetstream.KeyValueEntry) error, opts ...jetstream.WatchOpt) error {
	w, err := kv.WatchFiltered(ctx, []string{filter}, append(opts, jetstream.IgnoreDeletes())...)
	if err != nil {
		return fmt.Errorf("list %s %s: %w", kv.Bucket(), filter, err)
	}
	defer w.Stop()
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("list %s %s: %w", kv.Bucket(), filter, err)
				}
				return fmt.Errorf("list %s %s: watcher stopped early", kv.Bucket(), filter)
			}
			if e == nil {
				return nil // nil marks the end of the current values
			}
			if err := fn(e); err != nil {
				return err
			}
		case <-ctx.Done():
			return fmt.Errorf("list %s %s: %w", kv.Bucket(), filter, ctx.Err())
		}
	}
}
