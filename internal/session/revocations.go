package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Backoff between watch attempts, doubled per failure up to the maximum,
// with jitter; a watch that ran for a minute resets it.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// maxBatch is the most queued watch events applied before the set is
// republished (one copy of the set per batch, not per event).
const maxBatch = 1024

// errNoBucket: the sessions bucket does not exist yet (no session was
// ever created), so nothing is revoked.
var errNoBucket = errors.New("sessions bucket does not exist yet")

// RevocationsConfig tunes Revocations; the zero value is ready to use.
type RevocationsConfig struct {
	// Bucket is the sessions bucket to watch. Default "onair_sessions".
	Bucket string
	// Leeway: the sweep drops a revoked session this long after its token
	// expired (the store deletes it then too). Default 5 min.
	Leeway time.Duration
	// Sweep is how often entries whose token has expired are dropped (for
	// buckets whose expiries leave no watch event) and the bucket is
	// checked to be the one watched: a watch does not end when its bucket
	// is deleted or recreated, so this check restarts it. Default 1 min.
	Sweep time.Duration
	// Now is the clock of the sweep. Default time.Now.
	Now func() time.Time
}

// revKey names a session in the revoked set.
type revKey struct{ tenant, channel, id string }

// Revocations is an edge's in-memory set of revoked sessions, fed by a
// watch on the sessions bucket. Revoked is safe for concurrent use and
// takes no lock: Run publishes an immutable copy of the set after each
// batch of changes.
type Revocations struct {
	cfg   RevocationsConfig
	log   *slog.Logger
	set   atomic.Pointer[map[revKey]time.Time] // value: token expiry
	ready chan struct{}
	once  sync.Once

	size     prometheus.Gauge
	restarts prometheus.Counter
}

// NewRevocations allocates an empty set; Run fills it. Metrics are
// registered on reg (nil: not registered).
func NewRevocations(cfg RevocationsConfig, log *slog.Logger, reg prometheus.Registerer) (*Revocations, error) {
	if cfg.Bucket == "" {
		cfg.Bucket = DefaultBucket
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.Sweep == 0 {
		cfg.Sweep = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Leeway < 0 || cfg.Sweep < 0 {
		return nil, fmt.Errorf("session revocations config: leeway %v and sweep %v must not be negative", cfg.Leeway, cfg.Sweep)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Revocations{cfg: cfg, log: log, ready: make(chan struct{}),
		size: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "onair_session_revocations",
			Help: "Revoked viewer sessions in this process's set (tokens refused at the edge).",
		}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "onair_session_revocation_watch_restarts_total",
			Help: "Times the watch on the sessions bucket ended or failed and was started again.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{r.size, r.restarts} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("session revocations: register metrics: %w", err)
			}
		}
	}
	return r, nil
}

// Revoked reports whether the session is in the revoked set. It does not
// lock or allocate.
func (r *Revocations) Revoked(tenant, channel, id string) bool {
	m := r.set.Load()
	if m == nil {
		return false
	}
	_, ok := (*m)[revKey{tenant, channel, id}]
	return ok
}

// Len is the size of the revoked set.
func (r *Revocations) Len() int {
	if m := r.set.Load(); m != nil {
		return len(*m)
	}
	return 0
}

// Ready is closed once the set holds every revocation stored when Run
// started (or Run found no sessions bucket: nothing is revoked).
func (r *Revocations) Ready() <-chan struct{} { return r.ready }

// Run watches the sessions bucket until ctx ends, then returns nil. When
// the watch fails or ends it is started again with backoff; meanwhile the
// last set stays in use, and it is replaced whole once the new watch has
// loaded the bucket's current values (so deletions missed in between do
// not linger).
func (r *Revocations) Run(ctx context.Context, js jetstream.JetStream) error {
	if js == nil {
		return errors.New("session revocations: a JetStream context is required")
	}
	backoff := minBackoff
	for {
		started := time.Now()
		err := r.watch(ctx, js)
		if ctx.Err() != nil {
			return nil
		}
		r.restarts.Inc()
		if time.Since(started) > time.Minute {
			backoff = minBackoff
		}
		if errors.Is(err, errNoBucket) {
			r.log.Debug("session revocations: waiting for the sessions bucket", "bucket", r.cfg.Bucket)
		} else {
			r.log.Warn("session revocations: watch failed, restarting", "bucket", r.cfg.Bucket, "err", err, "backoff", backoff)
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// watch runs one watch of the whole bucket: the current value of every
// key, then every change.
func (r *Revocations) watch(ctx context.Context, js jetstream.JetStream) error {
	kv, err := js.KeyValue(ctx, r.cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		r.publish(nil)
		r.markReady()
		return errNoBucket
	}
	if err != nil {
		return fmt.Errorf("bind bucket %s: %w", r.cfg.Bucket, err)
	}
	created, err := bucketCreated(ctx, kv)
	if err != nil {
		return err
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch bucket %s: %w", r.cfg.Bucket, err)
	}
	defer w.Stop()
	updates := w.Updates()
	sweep := time.NewTicker(r.cfg.Sweep)
	defer sweep.Stop()

	cur := make(map[revKey]time.Time)
	loading, dirty := true, false
	for {
		var e jetstream.KeyValueEntry
		var ok bool
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sweep.C:
			now, err := bucketCreated(ctx, kv)
			if err != nil {
				return fmt.Errorf("check watched bucket: %w", err)
			}
			if !now.Equal(created) {
				return fmt.Errorf("bucket %s was made again under the watch", r.cfg.Bucket)
			}
			if !loading && r.sweep(cur) {
				r.publish(cur)
			}
			continue
		case e, ok = <-updates:
		}
		for n := 0; ; n++ { // this event and those already queued
			if !ok {
				if dirty && !loading {
					r.publish(cur)
				}
				return fmt.Errorf("watch bucket %s: ended", r.cfg.Bucket)
			}
			if e == nil { // end of the initial values
				loading, dirty = false, true
			} else if r.apply(cur, e) {
				dirty = true
			}
			if n >= maxBatch {
				break
			}
			select {
			case e, ok = <-updates:
				continue
			default:
			}
			break
		}
		if dirty && !loading {
			r.sweep(cur)
			r.publish(cur)
			r.markReady()
			dirty = false
		}
	}
}

// bucketCreated is when the bucket's stream was made: a bucket deleted and
// made again under the same name differs.
func bucketCreated(ctx context.Context, kv jetstream.KeyValue) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := kv.Status(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("bucket %s status: %w", kv.Bucket(), err)
	}
	bs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return time.Time{}, nil
	}
	return bs.StreamInfo().Created, nil
}

// apply updates cur with one watch event and reports whether it changed.
func (r *Revocations) apply(cur map[revKey]time.Time, e jetstream.KeyValueEntry) bool {
	tenant, channel, id, ok := parseKey(e.Key())
	if !ok {
		r.log.Debug("session revocations: ignoring a foreign key", "key", e.Key())
		return false
	}
	k := revKey{tenant, channel, id}
	old, had := cur[k]
	if e.Operation() != jetstream.KeyValuePut { // deleted, purged or expired
		delete(cur, k)
		return had
	}
	var v struct {
		Revoked      time.Time `json:"revoked"`
		TokenExpires time.Time `json:"token_expires"`
	}
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		r.log.Warn("session revocations: undecodable record ignored", "key", e.Key(), "err", err)
		return false
	}
	if v.Revoked.IsZero() {
		delete(cur, k)
		return had
	}
	if had && old.Equal(v.TokenExpires) {
		return false
	}
	cur[k] = v.TokenExpires
	return true
}

// sweep drops entries whose token expired more than Leeway ago and
// reports whether any went.
func (r *Revocations) sweep(cur map[revKey]time.Time) bool {
	now := r.cfg.Now()
	changed := false
	for k, exp := range cur {
		if !exp.IsZero() && now.After(exp.Add(r.cfg.Leeway)) {
			delete(cur, k)
			changed = true
		}
	}
	return changed
}

// publish makes a copy of cur the set Revoked reads.
func (r *Revocations) publish(cur map[revKey]time.Time) {
	m := maps.Clone(cur)
	r.set.Store(&m)
	r.size.Set(float64(len(m)))
}

func (r *Revocations) markReady() { r.once.Do(func() { close(r.ready) }) }
