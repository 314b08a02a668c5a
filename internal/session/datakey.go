package session

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"onair/internal/kms"
)

// dayLayout is the data key id: the UTC day the key encrypts records of.
const dayLayout = "20060102"

// dekPrefix starts the data key records' KV keys ("dek.20261101").
const dekPrefix = "dek."

// dekAAD binds a wrapped data key to its id.
const dekAAD = "onair-session-dek-v1\n"

// errShredded: the data key was deleted (or is past the horizon), so the
// personal data under it cannot be read any more.
var errShredded = errors.New("data key shredded")

// dekRecord is a wrapped data key as the key bucket stores it.
type dekRecord struct {
	V       int       `json:"v"`
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	Wrapped []byte    `json:"wrapped"` // kms blob, base64 in JSON
}

// dayID is the data key id of t's UTC day.
func dayID(t time.Time) string { return t.UTC().Format(dayLayout) }

// parseDayID returns the start (UTC midnight) of a data key id's day.
func parseDayID(id string) (time.Time, bool) {
	if len(id) != len(dayLayout) {
		return time.Time{}, false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return time.Time{}, false
		}
	}
	t, err := time.Parse(dayLayout, id)
	if err != nil || t.Year() < 2000 {
		return time.Time{}, false
	}
	return t, true
}

func validDayID(id string) bool {
	_, ok := parseDayID(id)
	return ok
}

// dataKeys makes, caches and shreds the per-day data keys. Safe for
// concurrent use.
type dataKeys struct {
	kms kms.KMS
	ttl time.Duration
	now func() time.Time
	log *slog.Logger

	makeMu sync.Mutex // held while today's key is loaded or made

	mu    sync.Mutex
	aeads map[string]cipher.AEAD // by id; plain keys live only here
}

func newDataKeys(k kms.KMS, ttl time.Duration, now func() time.Time, log *slog.Logger) *dataKeys {
	return &dataKeys{kms: k, ttl: ttl, now: now, log: log, aeads: make(map[string]cipher.AEAD)}
}

// expired reports whether the key of day id is past the horizon: older
// than TTL + 48 h, so no live session can still use it.
func (d *dataKeys) expired(id string, now time.Time) bool {
	day, ok := parseDayID(id)
	return !ok || now.Sub(day) > d.ttl+keyHorizon
}

// cached returns the AEAD of id from memory, dropping every cached key
// that is past the horizon (other nodes shred them from the bucket).
func (d *dataKeys) cached(id string, now time.Time) cipher.AEAD {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k := range d.aeads {
		if d.expired(k, now) {
			delete(d.aeads, k)
		}
	}
	return d.aeads[id]
}

func (d *dataKeys) remember(id string, a cipher.AEAD) {
	d.mu.Lock()
	d.aeads[id] = a
	d.mu.Unlock()
}

// byID returns the key that encrypted a record; errors wrap errShredded
// when it is gone.
func (d *dataKeys) byID(ctx context.Context, kv jetstream.KeyValue, id string) (cipher.AEAD, error) {
	now := d.now()
	if d.expired(id, now) {
		return nil, fmt.Errorf("data key %s: older than ttl + %v: %w", id, keyHorizon, errShredded)
	}
	if a := d.cached(id, now); a != nil {
		return a, nil
	}
	return d.load(ctx, kv, id)
}

// current returns today's key and its id, making the key on the day's
// first use. Nodes racing to make it agree through KV Create: the loser
// reads the winner's key. The node that made it shreds expired keys.
func (d *dataKeys) current(ctx context.Context, kv jetstream.KeyValue) (string, cipher.AEAD, error) {
	now := d.now()
	id := dayID(now)
	if a := d.cached(id, now); a != nil {
		return id, a, nil
	}
	d.makeMu.Lock() // one maker per process; other nodes race through KV Create
	defer d.makeMu.Unlock()
	if a := d.cached(id, now); a != nil {
		return id, a, nil
	}
	a, err := d.load(ctx, kv, id)
	if err == nil {
		return id, a, nil
	}
	if !errors.Is(err, errShredded) {
		return "", nil, err
	}
	plain, wrapped, err := d.kms.GenerateDataKey(ctx, []byte(dekAAD+id))
	if err != nil {
		return "", nil, fmt.Errorf("data key %s: %w", id, err)
	}
	a, err = newAEAD(plain)
	clear(plain)
	if err != nil {
		return "", nil, fmt.Errorf("data key %s: %w", id, err)
	}
	data, err := json.Marshal(dekRecord{V: 1, ID: id, Created: now.UTC().Round(0), Wrapped: wrapped})
	if err != nil {
		return "", nil, fmt.Errorf("data key %s: %w", id, err)
	}
	if _, err := kv.Create(ctx, dekPrefix+id, data); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			a, err := d.load(ctx, kv, id) // another node made it first
			if err != nil {
				return "", nil, err
			}
			return id, a, nil
		}
		return "", nil, fmt.Errorf("data key %s: store: %w", id, err)
	}
	d.remember(id, a)
	d.log.Info("session: data key created", "id", id, "kms", d.kms.Name(), "kek", d.kms.Current())
	if err := d.shred(ctx, kv, now); err != nil {
		d.log.Warn("session: shredding old data keys failed; the next day's key retries", "err", err)
	}
	return id, a, nil
}

// load reads and unwraps key id; errors wrap errShredded when the bucket
// does not hold it.
func (d *dataKeys) load(ctx context.Context, kv jetstream.KeyValue, id string) (cipher.AEAD, error) {
	e, err := kv.Get(ctx, dekPrefix+id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("data key %s: not in the key bucket: %w", id, errShredded)
	}
	if err != nil {
		return nil, fmt.Errorf("data key %s: read: %w", id, err)
	}
	var r dekRecord
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return nil, fmt.Errorf("data key %s: decode: %w", id, err)
	}
	if r.ID != id {
		return nil, fmt.Errorf("data key %s: record holds key %q", id, r.ID)
	}
	plain, err := d.kms.Decrypt(ctx, r.Wrapped, []byte(dekAAD+id))
	if err != nil {
		return nil, fmt.Errorf("data key %s: unwrap (is this node's KMS the one that made it?): %w", id, err)
	}
	a, err := newAEAD(plain)
	clear(plain)
	if err != nil {
		return nil, fmt.Errorf("data key %s: %w", id, err)
	}
	d.remember(id, a)
	return a, nil
}

// shred purges every data key past the horizon from the bucket: the
// personal data they encrypted can no longer be read (crypto-shredding).
func (d *dataKeys) shred(ctx context.Context, kv jetstream.KeyValue, now time.Time) error {
	l, err := kv.ListKeysFiltered(ctx, dekPrefix+"*")
	if err != nil {
		return fmt.Errorf("list data keys: %w", err)
	}
	var old []string
	for k := range l.Keys() {
		if id, ok := strings.CutPrefix(k, dekPrefix); ok && d.expired(id, now) {
			old = append(old, k)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list data keys: %w", err)
	}
	for _, k := range old {
		if err := kv.Purge(ctx, k, jetstream.PurgeTTL(markerTTL)); err != nil {
			return fmt.Errorf("purge data key %s: %w", k, err)
		}
		d.log.Info("session: data key shredded", "id", strings.TrimPrefix(k, dekPrefix))
	}
	return nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != kms.DataKeySize {
		return nil, fmt.Errorf("data key of %d bytes, want %d", len(key), kms.DataKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block) // 12-byte nonce, 16-byte tag
}

// sealPII encrypts p: nonce||ciphertext, AAD the record's KV key.
func sealPII(a cipher.AEAD, key string, p PII) ([]byte, error) {
	plain, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode personal data: %w", err)
	}
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	_, _ = rand.Read(nonce) // never fails (crypto/rand, Go 1.24+)
	out := a.Seal(nonce, nonce, plain, []byte(key))
	clear(plain)
	return out, nil
}

// openPII decrypts what sealPII made.
func openPII(a cipher.AEAD, key string, blob []byte) (PII, error) {
	n := a.NonceSize()
	if len(blob) < n+a.Overhead() {
		return PII{}, fmt.Errorf("personal data: %d bytes, too short", len(blob))
	}
	plain, err := a.Open(nil, blob[:n], blob[n:], []byte(key))
	if err != nil {
		return PII{}, errors.New("personal data does not authenticate (altered, or moved from another session)")
	}
	var p PII
	err = json.Unmarshal(plain, &p)
	clear(plain)
	if err != nil {
		return PII{}, fmt.Errorf("personal data: decode: %w", err)
	}
	return p, nil
}
