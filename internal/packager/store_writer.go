package packager

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"syscall"
	"time"

	"onair/internal/objstore"
)

// Store-writer tuning. Each object's Put is tried once inline; failures
// wait in a FIFO retry queue bounded by bytes, retried by Run with
// exponential backoff. While the queue is non-empty new objects join it
// instead of being tried inline, so a dead store is not hammered and a
// Write is not held up by it more than once.
const (
	defaultRetryBudget = 64 << 20
	putTimeout         = 10 * time.Second
	retryBackoffMin    = 500 * time.Millisecond
	retryBackoffMax    = 30 * time.Second
	deleteRetryDelay   = 30 * time.Second
	deleteMaxAttempts  = 5
	logPeriod          = 30 * time.Second
	flushTimeout       = 5 * time.Second
)

// storeWriter writes objects to the store and deletes them when their
// retention is up. Safe for concurrent use; run is called by Packager.Run.
type storeWriter struct {
	store  objstore.Store
	log    *slog.Logger
	m      *metrics
	budget int
	limit  *logLimiter

	mu        sync.Mutex
	queue     []*pendingPut
	queued    int // bytes in queue
	retryAt   time.Time
	backoff   time.Duration
	deletions []deletion // ascending due
	wake      chan struct{}
}

type pendingPut struct {
	key  string
	data []byte
}

type deletion struct {
	due      time.Time
	key      string
	attempts int
}

func newStoreWriter(store objstore.Store, log *slog.Logger, m *metrics, budget int) *storeWriter {
	if budget <= 0 {
		budget = defaultRetryBudget
	}
	return &storeWriter{store: store, log: log, m: m, budget: budget, limit: newLogLimiter(logPeriod), wake: make(chan struct{}, 1)}
}

func (w *storeWriter) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// put stores data under key, or queues it for a retry. It never fails: a
// failure is counted and logged (once per period) and the object waits in
// the retry queue.
func (w *storeWriter) put(key string, data []byte) {
	w.mu.Lock()
	busy := len(w.queue) > 0
	if busy {
		w.enqueueLocked(key, data)
		w.mu.Unlock()
		return
	}
	w.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), putTimeout)
	err := w.store.Put(ctx, key, data)
	cancel()
	if err == nil {
		return
	}
	w.failed("put", key, err)
	w.mu.Lock()
	if len(w.queue) == 0 {
		w.backoff = retryBackoffMin
		w.retryAt = time.Now().Add(w.backoff)
	}
	w.enqueueLocked(key, data)
	w.mu.Unlock()
	w.signal()
}

// enqueueLocked appends to the retry queue and drops the oldest entries
// beyond the byte budget: for live media the newest objects matter most.
func (w *storeWriter) enqueueLocked(key string, data []byte) {
	w.queue = append(w.queue, &pendingPut{key: key, data: data})
	w.queued += len(data)
	dropped := 0
	for w.queued > w.budget && len(w.queue) > 1 {
		w.queued -= len(w.queue[0].data)
		w.queue[0] = nil
		w.queue = w.queue[1:]
		dropped++
	}
	w.m.retryBytes.Set(float64(w.queued))
	if dropped > 0 {
		w.m.retryDropped.Add(float64(dropped))
		if ok, n := w.limit.allow("retry-drop", time.Now()); ok {
			w.log.Error("storage retry queue full: dropping the oldest objects (they stay playable from memory while in the live window)",
				"dropped", dropped+n, "budget_bytes", w.budget)
		}
	}
}

// failed counts and (rate-limited) logs a store error with a hint.
func (w *storeWriter) failed(op, key string, err error) {
	w.m.storeErrors.WithLabelValues(op).Inc()
	ok, n := w.limit.allow("store-"+op, time.Now())
	if !ok {
		return
	}
	w.log.Error("storage "+op+" failed", "key", key, "err", err, "suppressed", n, "hint", storeHint(err))
}

func storeHint(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return "storage is full: free space or lower the retention; new media stays in memory for the live window and is retried"
	case errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return "storage is not writable: check the storage directory's permissions and mount"
	case errors.Is(err, context.DeadlineExceeded):
		return "storage is too slow or unreachable; objects are retried"
	}
	return "objects are kept in memory for the live window and retried"
}

// scheduleDelete deletes keys from the store at due.
func (w *storeWriter) scheduleDelete(due time.Time, keys []string) {
	if len(keys) == 0 {
		return
	}
	w.mu.Lock()
	for _, k := range keys {
		w.insertDeletionLocked(deletion{due: due, key: k})
	}
	w.mu.Unlock()
	w.signal()
}

func (w *storeWriter) insertDeletionLocked(d deletion) {
	i := sort.Search(len(w.deletions), func(i int) bool { return w.deletions[i].due.After(d.due) })
	w.deletions = slices.Insert(w.deletions, i, d)
}

// next returns when run has work next (zero: nothing scheduled).
func (w *storeWriter) next() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	var t time.Time
	if len(w.queue) > 0 {
		t = w.retryAt
	}
	if len(w.deletions) > 0 && (t.IsZero() || w.deletions[0].due.Before(t)) {
		t = w.deletions[0].due
	}
	return t
}

// run retries queued puts and performs due deletions until ctx ends, then
// tries the queue one last time.
func (w *storeWriter) run(ctx context.Context) {
	for {
		var timer *time.Timer
		var fire <-chan time.Time
		if t := w.next(); !t.IsZero() {
			timer = time.NewTimer(max(time.Until(t), 0))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
			w.retry(fctx, true)
			cancel()
			return
		case <-w.wake:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
		w.retry(ctx, false)
		w.deleteDue(ctx)
	}
}

// retry writes queued objects in order until one fails.
func (w *storeWriter) retry(ctx context.Context, force bool) {
	for {
		w.mu.Lock()
		if len(w.queue) == 0 || (!force && time.Now().Before(w.retryAt)) {
			w.mu.Unlock()
			return
		}
		head := w.queue[0]
		w.mu.Unlock()

		pctx, cancel := context.WithTimeout(ctx, putTimeout)
		err := w.store.Put(pctx, head.key, head.data)
		cancel()

		w.mu.Lock()
		if err != nil {
			w.backoff = min(max(w.backoff*2, retryBackoffMin), retryBackoffMax)
			w.retryAt = time.Now().Add(w.backoff)
			w.mu.Unlock()
			w.failed("put", head.key, err)
			return
		}
		if len(w.queue) > 0 && w.queue[0] == head {
			w.queue[0] = nil
			w.queue = w.queue[1:]
			w.queued -= len(head.data)
		}
		empty := len(w.queue) == 0
		if empty {
			w.backoff = 0
			w.queue = nil
		}
		w.m.retryBytes.Set(float64(w.queued))
		w.mu.Unlock()
		if empty {
			w.limit.reset("store-put")
			w.log.Info("storage writes recovered: retry queue flushed")
			return
		}
	}
}

// deleteDue deletes objects whose retention is up. An object still in the
// retry queue is dropped from it instead of being written late.
func (w *storeWriter) deleteDue(ctx context.Context) {
	now := time.Now()
	w.mu.Lock()
	var due []deletion
	for len(w.deletions) > 0 && !w.deletions[0].due.After(now) {
		due = append(due, w.deletions[0])
		w.deletions = w.deletions[1:]
	}
	if len(due) > 0 && len(w.queue) > 0 {
		gone := make(map[string]bool, len(due))
		for _, d := range due {
			gone[d.key] = true
		}
		w.queue = slices.DeleteFunc(w.queue, func(p *pendingPut) bool {
			if gone[p.key] {
				w.queued -= len(p.data)
				return true
			}
			return false
		})
		w.m.retryBytes.Set(float64(w.queued))
	}
	w.mu.Unlock()

	var again []deletion
	for _, d := range due {
		if ctx.Err() != nil {
			again = append(again, d)
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, putTimeout)
		err := w.store.Delete(dctx, d.key)
		cancel()
		if err != nil {
			w.failed("delete", d.key, err)
			d.attempts++
			if d.attempts < deleteMaxAttempts {
				d.due = time.Now().Add(deleteRetryDelay)
				again = append(again, d)
			}
		}
	}
	if len(again) > 0 {
		w.mu.Lock()
		for _, d := range again {
			w.insertDeletionLocked(d)
		}
		w.mu.Unlock()
	}
}

// queuedBytes returns the bytes waiting in the retry queue.
func (w *storeWriter) queuedBytes() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.queued
}
