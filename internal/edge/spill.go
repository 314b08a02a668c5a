package edge

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// spillSuffix ends the name of every file the spill writes:
// "{hash}-{seq}.spill", hash the first 128 bits of the cache key's SHA-256
// in hex and seq a counter, so a key spilled again never reuses a name a
// viewer may still be reading.
const spillSuffix = ".spill"

// spill keeps immutable objects evicted from the memory cache in files
// under Config.SpillDir, within Config.SpillBytes, least recently used
// first out. Evictions happen under the Edge's mutex, so add, forget and
// get only touch the index; the writer goroutine (run) does the file
// I/O. A queued object is served from its body in memory until written.
// A failed write or read drops the object: the spill never fails a
// request, the next one goes upstream.
type spill struct {
	dir        string
	budget     int64 // Config.SpillBytes
	maxPending int64 // bytes of bodies waiting for the writer
	log        *slog.Logger
	metrics    *metrics
	errLog     rateLog

	mu      sync.Mutex
	ready   bool // run prepared the directory and is writing
	index   map[string]*spillEntry
	lru     *list.List // front: most recently used
	size    int64      // body bytes of the indexed entries
	queue   []spillOp  // work for the writer, in order
	pending int64      // body bytes held by queued writes
	seq     uint64
	wake    chan struct{} // capacity 1: work was queued
}

// spillEntry is one spilled object: its metadata in memory, its body in
// a file (or in mem while the write is queued). Guarded by spill.mu.
type spillEntry struct {
	key      string
	path     string
	bodyLen  int64
	status   int
	header   http.Header
	stored   time.Time
	fresh    freshness
	kind     requestKind
	upstream string
	etag     string // entity tag, set when written
	mem      []byte // body until written
	written  bool
	removed  bool
	elem     *list.Element
}

// spillOp is a write of an entry (obj is the evicted object, for its
// entity tag) or the removal of a file.
type spillOp struct {
	entry *spillEntry
	obj   *object
	path  string // remove this file when entry is nil
}

// newSpill returns the spill Config asks for, nil when SpillDir is "".
func newSpill(cfg Config, log *slog.Logger, m *metrics) *spill {
	if cfg.SpillDir == "" {
		return nil
	}
	return &spill{
		dir:        cfg.SpillDir,
		budget:     cfg.SpillBytes,
		maxPending: max(cfg.CacheBytes/4, 1<<20),
		log:        log,
		metrics:    m,
		errLog:     rateLog{every: 10 * time.Second},
		index:      make(map[string]*spillEntry),
		lru:        list.New(),
		wake:       make(chan struct{}, 1),
	}
}

// spillName is the file name for key's seq-th spill.
func spillName(key string, seq uint64) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16]) + "-" + strconv.FormatUint(seq, 10) + spillSuffix
}

// isSpillName reports whether name is one spillName makes.
func isSpillName(name string) bool {
	stem, ok := strings.CutSuffix(name, spillSuffix)
	if !ok {
		return false
	}
	hash, seq, ok := strings.Cut(stem, "-")
	if len(hash) != 32 || !ok {
		return false
	}
	if _, err := hex.DecodeString(hash); err != nil {
		return false
	}
	_, err := strconv.ParseUint(seq, 10, 64)
	return err == nil
}

// add queues an object the memory cache evicted. Only 200s of immutable
// objects (never manifests) that may still be served are kept. Called
// with the Edge's mutex held: no I/O.
func (s *spill) add(o *object) {
	if s == nil || o.kind != kindObject || o.status != 200 || o.body == nil || o.spilled != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ready {
		return
	}
	n := int64(len(o.body))
	switch {
	case n > s.budget:
		s.metrics.spillDropped.WithLabelValues("too_large").Inc()
		return
	case s.pending+n > s.maxPending:
		s.metrics.spillDropped.WithLabelValues("backlog").Inc()
		return
	}
	if old := s.index[o.key]; old != nil {
		s.removeLocked(old)
	}
	s.seq++
	en := &spillEntry{
		key: o.key, path: filepath.Join(s.dir, spillName(o.key, s.seq)), bodyLen: n,
		status: o.status, header: o.header, stored: o.stored, fresh: o.fresh, kind: o.kind,
		upstream: o.upstream, mem: o.body,
	}
	en.elem = s.lru.PushFront(en)
	s.index[o.key] = en
	s.size += n
	s.pending += n
	s.queue = append(s.queue, spillOp{entry: en, obj: o})
	for s.size > s.budget {
		s.removeLocked(s.lru.Back().Value.(*spillEntry))
	}
	s.signal()
	s.report()
}

// forget drops key's entry: a newer response for it is in memory.
// Called with the Edge's mutex held.
func (s *spill) forget(key string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if en := s.index[key]; en != nil {
		s.removeLocked(en)
		s.report()
	}
}

// get returns a view of key's spilled object (its body in memory while
// the write is queued, else only in the file), or nil; use marks it
// recently used. Called with the Edge's mutex held.
func (s *spill) get(key string, use bool) *object {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	en := s.index[key]
	if en == nil {
		return nil
	}
	if use {
		s.lru.MoveToFront(en.elem)
	}
	return &object{
		key: en.key, status: en.status, header: en.header, body: en.mem, stored: en.stored,
		fresh: en.fresh, kind: en.kind, size: en.bodyLen, upstream: en.upstream, spilled: en, etag: en.etag,
	}
}

// open opens a view's file for reading. On failure the entry is dropped
// (the next request goes upstream) and the error is counted and logged.
func (s *spill) open(o *object) (*os.File, error) {
	f, err := os.Open(o.spilled.path)
	if err == nil {
		var fi os.FileInfo
		if fi, err = f.Stat(); err == nil && fi.Size() != o.spilled.bodyLen {
			err = fmt.Errorf("%s has %d bytes, want %d", o.spilled.path, fi.Size(), o.spilled.bodyLen)
		}
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		s.mu.Lock()
		replaced := o.spilled.removed // a newer response took its place: not a disk failure
		s.mu.Unlock()
		if !replaced || !errors.Is(err, fs.ErrNotExist) {
			s.failed("read", o.spilled, err)
		}
		return nil, fmt.Errorf("open spilled %s: %w", o.key, err)
	}
	return f, nil
}

// failed counts and (rate-limited) logs a failed spill operation on en,
// dropping en.
func (s *spill) failed(op string, en *spillEntry, err error) {
	s.metrics.spillErrors.WithLabelValues(op).Inc()
	s.mu.Lock()
	if en != nil && s.index[en.key] == en {
		s.removeLocked(en)
		s.report()
	}
	s.mu.Unlock()
	if ok, suppressed := s.errLog.allow(time.Now()); ok {
		s.log.Warn("spill "+op+" failed; object dropped", "dir", s.dir, "err", err, "suppressed", suppressed)
	}
}

// removeLocked unindexes en and queues the removal of its file.
func (s *spill) removeLocked(en *spillEntry) {
	s.lru.Remove(en.elem)
	delete(s.index, en.key)
	s.size -= en.bodyLen
	en.removed = true
	if en.written {
		s.queue = append(s.queue, spillOp{path: en.path})
		s.signal()
	}
}

func (s *spill) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *spill) report() {
	s.metrics.spillBytes.Set(float64(s.size))
	s.metrics.spillObjects.Set(float64(len(s.index)))
}

// run prepares the directory, then writes and removes files until ctx is
// canceled. Spilled files stay until the next run removes them.
func (s *spill) run(ctx context.Context) {
	if s == nil {
		return
	}
	if err := s.prepare(); err != nil {
		s.metrics.spillErrors.WithLabelValues("prepare").Inc()
		s.log.Error("spill disabled", "dir", s.dir, "err", err)
		return
	}
	defer func() {
		s.mu.Lock()
		s.ready = false
		for _, op := range s.queue {
			if op.entry != nil && !op.entry.removed {
				s.removeLocked(op.entry)
			}
		}
		s.queue, s.pending = nil, 0
		s.report()
		s.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		for ctx.Err() == nil {
			op, ok := s.next()
			if !ok {
				break
			}
			s.do(op)
		}
	}
}

// prepare creates the directory and removes the files an earlier run
// left (only names the spill makes: a SpillDir shared by mistake keeps
// everything else).
func (s *spill) prepare() error {
	if err := os.MkdirAll(s.dir, 0o750); err != nil {
		return fmt.Errorf("create spill dir: %w", err)
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("read spill dir: %w", err)
	}
	for _, de := range entries {
		if de.Type().IsRegular() && isSpillName(de.Name()) {
			if err := os.Remove(filepath.Join(s.dir, de.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("empty spill dir: %w", err)
			}
		}
	}
	s.mu.Lock()
	s.ready = true
	s.mu.Unlock()
	return nil
}

// next takes the oldest queued op.
func (s *spill) next() (spillOp, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return spillOp{}, false
	}
	op := s.queue[0]
	s.queue[0] = spillOp{}
	s.queue = s.queue[1:]
	if len(s.queue) == 0 {
		s.queue = nil // let the backing array go
	}
	return op, true
}

// do performs one op outside the lock.
func (s *spill) do(op spillOp) {
	if op.entry == nil {
		if err := os.Remove(op.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.failed("remove", nil, err)
		}
		return
	}
	en := op.entry
	s.mu.Lock()
	body, skip := en.mem, en.removed
	s.mu.Unlock()
	var (
		etag string
		err  error
	)
	if !skip {
		etag = op.obj.entityTag()
		err = writeSpillFile(en.path, body)
	}
	s.mu.Lock()
	s.pending -= en.bodyLen
	en.mem = nil
	switch {
	case skip:
	case err != nil:
	case en.removed:
		s.queue = append(s.queue, spillOp{path: en.path}) // forgotten while being written
	default:
		en.etag, en.written = etag, true
	}
	s.mu.Unlock()
	if err != nil {
		s.failed("write", en, err)
	}
}

// writeSpillFile writes body to a new file at path; a partial file is
// removed.
func writeSpillFile(path string, body []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("create spill file: %w", err)
	}
	_, err = f.Write(body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write spill file: %w", err)
	}
	return nil
}

// rateLog lets one log line through per period and counts the rest.
type rateLog struct {
	every time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// allow reports whether to log now and how many lines were suppressed
// since the last one.
func (l *rateLog) allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.suppressed++
		return false, 0
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	return true, n
}
