package session

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"onair/internal/kvscan"
)

// List returns a channel's sessions with their personal data, revoked
// ones included (Revoked set), oldest Created first (ties by id). It reads
// only that channel's keys (a subject filter on the server), so other
// channels' and tenants' sessions are never sent to this process. There
// is no paging: a channel's sessions are all decrypted at once.
func (s *Store) List(ctx context.Context, tenant, channel string) ([]Session, error) {
	if err := checkChannel(tenant, channel); err != nil {
		return nil, fmt.Errorf("session: list: %w", err)
	}
	kv, keyKV, err := s.buckets(ctx)
	if err != nil {
		return nil, s.fail(opList, err)
	}
	var out []Session
	err = kvscan.Each(ctx, kv, channelFilter(tenant, channel), func(e jetstream.KeyValueEntry) error {
		r, err := decodeRecord(e.Key(), e.Value())
		if err != nil {
			return fmt.Errorf("session: %w", err)
		}
		sess := r.session()
		if sess.PII, err = s.open(ctx, keyKV, e.Key(), r); err != nil {
			return fmt.Errorf("session: %s: %w", e.Key(), err)
		}
		out = append(out, sess)
		return nil
	})
	if err != nil {
		return nil, s.fail(opList, err)
	}
	slices.SortFunc(out, func(a, b Session) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// DeleteChannel purges every session of a deleted channel, revoked ones
// too: their records and personal data go, and edges drop them from their
// revoked sets (a token of the deleted channel has nothing left to play).
func (s *Store) DeleteChannel(ctx context.Context, tenant, channel string) error {
	if err := checkChannel(tenant, channel); err != nil {
		return fmt.Errorf("session: delete channel: %w", err)
	}
	kv, _, err := s.buckets(ctx)
	if err != nil {
		return s.fail(opDeleteChannel, err)
	}
	filter := channelFilter(tenant, channel)
	var keys []string
	err = kvscan.Each(ctx, kv, filter, func(e jetstream.KeyValueEntry) error {
		keys = append(keys, e.Key())
		return nil
	}, jetstream.MetaOnly())
	if err != nil {
		return s.fail(opDeleteChannel, err)
	}
	for _, k := range keys {
		if err := kv.Purge(ctx, k, jetstream.PurgeTTL(markerTTL)); err != nil {
			return s.fail(opDeleteChannel, fmt.Errorf("session: purge %s: %w", k, err))
		}
	}
	s.touched.forgetPrefix(strings.TrimSuffix(filter, "*"))
	s.log.Info("session: channel sessions deleted", "tenant", tenant, "channel", channel, "sessions", len(keys))
	return nil
}
