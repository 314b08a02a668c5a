package keystore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"onair/internal/kms"
	"onair/internal/natstest"
)

// testNATS is an embedded JetStream server (internal/natstest) with a
// client connection and a scratch directory.
type testNATS struct {
	dir   string // scratch files (keyrings)
	store string // the JetStream store directory
	js    jetstream.JetStream
}

func startNATS(t *testing.T) *testNATS {
	t.Helper()
	srv := natstest.Start(t, "keystore-test")
	return &testNATS{dir: t.TempDir(), store: srv.Dir, js: srv.Connect(t)}
}

func openStore(t *testing.T, n *testNATS, k kms.KMS, cfg Config) *Store {
	t.Helper()
	s, err := New(n.js, k, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func newLocal(t *testing.T, ids ...string) *kms.Local {
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
	l, err := kms.NewLocal(r)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// rawRecord reads a key's record straight from the bucket.
func rawRecord(t *testing.T, n *testNATS, channel string, kid KID) (jetstream.KeyValueEntry, record) {
	t.Helper()
	kv, err := n.js.KeyValue(t.Context(), Bucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(t.Context(), kvKey(channel, kid))
	if err != nil {
		t.Fatal(err)
	}
	var r record
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		t.Fatal(err)
	}
	return e, r
}

// secretForms are the encodings of a secret that must never be at rest.
func secretForms(secret []byte) [][]byte {
	return [][]byte{secret, []byte(hex.EncodeToString(secret)), []byte(strings.ToUpper(hex.EncodeToString(secret))),
		[]byte(base64.StdEncoding.EncodeToString(secret)), []byte(base64.RawURLEncoding.EncodeToString(secret))}
}

// The content key is at rest only sealed: neither the KV entry nor any
// file of the JetStream store holds it, in raw, hex or base64 form.
func TestPlaintextNeverAtRest(t *testing.T) {
	ctx := t.Context()
	n := startNATS(t)
	s := openStore(t, n, newLocal(t, "k1"), Config{})
	var keys []Key
	for i := range 3 {
		k, err := s.Generate(ctx, "news", SchemeCBCS, int64(i*100))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	fixed := Key{Channel: "news", KID: KID{1, 2, 3}, Value: []byte("SECRET-KEY-16-B!"), IV: []byte("IV-SIXTEEN-BYTES"), Scheme: SchemeCENC, Period: 300}
	if err := s.Put(ctx, fixed); err != nil {
		t.Fatal(err)
	}
	keys = append(keys, fixed)

	for _, k := range keys {
		e, r := rawRecord(t, n, k.Channel, k.KID)
		for _, secret := range [][]byte{k.Value, k.IV} {
			for _, form := range secretForms(secret) {
				if bytes.Contains(e.Value(), form) || bytes.Contains(r.Sealed, form) {
					t.Fatalf("KV entry of %s holds the key or IV (%q)", k.KID, form)
				}
			}
		}
		b, err := kms.ParseBlob(r.Sealed)
		if err != nil || b.Backend != "local" || b.KEKID != "k1" {
			t.Fatalf("sealed = %+v, %v; want a local blob under k1", b, err)
		}
		if r.KID != k.KID.String() || r.Channel != "news" || r.Scheme != k.Scheme || r.Period != k.Period {
			t.Fatalf("clear fields %+v, want those of %+v", r, k)
		}
	}

	// The disk: every file under the JetStream directory.
	var files, sawKID int
	err := filepath.WalkDir(n.store, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if bytes.Contains(data, []byte(fixed.KID.String())) {
			sawKID++ // the clear key ID: proves the records reached these files
		}
		for _, k := range keys {
			for _, secret := range [][]byte{k.Value, k.IV} {
				for _, form := range secretForms(secret) {
					if bytes.Contains(data, form) {
						t.Errorf("%s holds a key or IV of %s (%q)", path, k.KID, form)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if sawKID == 0 {
		t.Fatalf("none of the %d JetStream files holds the records (key ID %s): the scan looked at the wrong place", files, fixed.KID)
	}

	// And the store gives the keys back.
	for _, k := range keys {
		got, err := s.Get(ctx, k.Channel, k.KID)
		if err != nil || !bytes.Equal(got.Value, k.Value) || !bytes.Equal(got.IV, k.IV) || got.Scheme != k.Scheme || got.Period != k.Period {
			t.Fatalf("Get(%s) = %+v, %v; want %+v", k.KID, got, err, k)
		}
	}
}

func TestGetWithOtherKEK(t *testing.T) {
	ctx := t.Context()
	n := startNATS(t)
	s := openStore(t, n, newLocal(t, "k1"), Config{})
	k, err := s.Generate(ctx, "news", SchemeCBCS, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		kms  kms.KMS
		is   error
		msg  string
	}{
		{"same id, other key", newLocal(t, "k1"), kms.ErrDecrypt, `KEK id "k1": tampered, sealed for another use (AAD), or the KEK with that id is another key`},
		{"keyring without the id", newLocal(t, "k2", "k3"), kms.ErrUnknownKEK, `blob was encrypted with KEK id "k1" which is not in the keyring (it holds "k2", "k3")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := openStore(t, n, tc.kms, Config{})
			got, err := other.Get(ctx, "news", k.KID)
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "key "+k.KID.String()+" of channel news") {
				t.Fatalf("Get = %x, %v; want %v containing %q", got.Value, err, tc.is, tc.msg)
			}
			if _, err := other.List(ctx, "news"); !errors.Is(err, tc.is) {
				t.Fatalf("List = %v; want %v", err, tc.is)
			}
		})
	}
}

// Records edited at rest fail: the AAD binds channel, key ID, scheme and
// period.
func TestTamperedRecord(t *testing.T) {
	ctx := t.Context()
	n := startNATS(t)
	s := openStore(t, n, newLocal(t, "k1"), Config{CacheSize: -1})
	k, err := s.Generate(ctx, "news", SchemeCBCS, 100)
	if err != nil {
		t.Fatal(err)
	}
	kv, _ := n.js.KeyValue(ctx, Bucket)
	_, orig := rawRecord(t, n, "news", k.KID)
	other, _ := NewKID()
	for _, tc := range []struct {
		name    string
		channel string
		kid     KID
		edit    func(*record)
		is      error
		msg     string
	}{
		{"period", "news", k.KID, func(r *record) { r.Period = 0 }, kms.ErrDecrypt, "tampered"},
		{"scheme", "news", k.KID, func(r *record) { r.Scheme = SchemeCENC }, kms.ErrDecrypt, "tampered"},
		{"blob moved to another key ID", "news", other, func(r *record) { r.KID = other.String() }, kms.ErrDecrypt, "tampered"},
		{"blob moved to another channel", "sports", k.KID, func(r *record) { r.Channel = "sports" }, kms.ErrDecrypt, "tampered"},
		{"name mismatch", "news", other, func(r *record) {}, nil, "do not match its name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := orig
			tc.edit(&r)
			data, _ := json.Marshal(r)
			if _, err := kv.Put(ctx, kvKey(tc.channel, tc.kid), data); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, tc.channel, tc.kid)
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Get = %x, %v; want %v containing %q", got.Value, err, tc.is, tc.msg)
			}
			if tc.channel == "news" && tc.kid == k.KID {
				d, _ := json.Marshal(orig)
				kv.Put(ctx, kvKey("news", k.KID), d)
			}
		})
	}
}

// KEK rotation: old keys still decrypt, new keys use the new KEK id,
// Rewrap moves the old ones, after which the old KEK can go.
func TestKEKRotationAndRewrap(t *testing.T) {
	ctx := t.Context()
	n := startNATS(t)
	ring := filepath.Join(n.dir, "secrets", "keyring")
	if _, err := kms.EnsureKeyringFile(ring, time.Now()); err != nil {
		t.Fatal(err)
	}
	l1, err := kms.LoadLocalFile(ring)
	if err != nil {
		t.Fatal(err)
	}
	s1 := openStore(t, n, l1, Config{})
	old1, _ := s1.Generate(ctx, "news", SchemeCBCS, 0)
	old2, _ := s1.Generate(ctx, "sports", SchemeCENC, 0)

	newID, err := kms.RotateKeyringFile(ring, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	l2, err := kms.LoadLocalFile(ring)
	if err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, n, l2, Config{})
	for _, k := range []Key{old1, old2} {
		got, err := s2.Get(ctx, k.Channel, k.KID)
		if err != nil || !bytes.Equal(got.Value, k.Value) {
			t.Fatalf("after rotation, Get(old key) = %v", err)
		}
		if _, r := rawRecord(t, n, k.Channel, k.KID); kekOf(t, r) != l1.Current() {
			t.Fatalf("old key sealed under %q before rewrap, want %q", kekOf(t, r), l1.Current())
		}
	}
	fresh, err := s2.Generate(ctx, "news", SchemeCBCS, 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, r := rawRecord(t, n, "news", fresh.KID); kekOf(t, r) != newID {
		t.Fatalf("new key sealed under %q, want %q", kekOf(t, r), newID)
	}

	count, err := s2.Rewrap(ctx)
	if err != nil || count != 2 {
		t.Fatalf("Rewrap = %d, %v; want 2", count, err)
	}
	for _, k := range []Key{old1, old2, fresh} {
		if _, r := rawRecord(t, n, k.Channel, k.KID); kekOf(t, r) != newID {
			t.Fatalf("after rewrap, %s sealed under %q, want %q", k.KID, kekOf(t, r), newID)
		}
	}
	if count, err := s2.Rewrap(ctx); err != nil || count != 0 {
		t.Fatalf("second Rewrap = %d, %v; want 0", count, err)
	}

	// Retire the old KEK: a keyring with only the new one opens every key.
	r, _ := kms.ReadKeyringFile(ring)
	r.KEKs = r.KEKs[:1]
	l3, err := kms.NewLocal(r)
	if err != nil {
		t.Fatal(err)
	}
	s3 := openStore(t, n, l3, Config{})
	for _, k := range []Key{old1, old2, fresh} {
		got, err := s3.Get(ctx, k.Channel, k.KID)
		if err != nil || !bytes.Equal(got.Value, k.Value) || !bytes.Equal(got.IV, k.IV) {
			t.Fatalf("new KEK only: Get(%s) = %v", k.KID, err)
		}
	}
}

func kekOf(t *testing.T, r record) string {
	t.Helper()
	b, err := kms.ParseBlob(r.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	return b.KEKID
}

func TestPutRules(t *testing.T) {
	ctx := t.Context()
	n := startNATS(t)
	s := openStore(t, n, newLocal(t, "k1"), Config{})
	kid, _ := NewKID()
	k := Key{Channel: "news", KID: kid, Value: bytes.Repeat([]byte{1}, 16), Scheme: SchemeCENC, Period: 5}
	if err := s.Put(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, k); err != nil {
		t.Fatalf("Put of the same key again = %v, want nil", err)
	}
	got, err := s.Get(ctx, "news", kid)
	if err != nil || got.IV != nil || got.Created.IsZero() || got.Created.Location() != time.UTC {
		t.Fatalf("Get = %+v, %v; want no IV and a UTC creation time", got, err)
	}
	other := k
	other.Value = bytes.Repeat([]byte{2}, 16)
	if err := s.Put(ctx, other); !errors.Is(err, ErrExists) {
		t.Fatalf("Put of another key under the key ID = %v, want ErrExists", err)
	}
	if got, _ := s.Get(ctx, "news", kid); !bytes.Equal(got.Value, k.Value) {
		t.Fatal("the refused Put changed the key")
	}
	for _, tc := range []struct {
		edit func(*Key)
		msg  string
	}{
		{func(k *Key) { k.Value = k.Value[:15] }, "key is 15 bytes, want 16"},
		{func(k *Key) { k.IV = make([]byte, 12) }, "IV is 12 bytes, want 0, 8 or 16"},
		{func(k *Key) { k.Scheme = "" }, `scheme "" is not`},
		{func(k *Key) { k.Channel = "a.b" }, `channel "a.b" is not`},
		{func(k *Key) { k.Channel = "news"; k.Period = -1 }, "period -1 is negative"},
	} {
		bad := k
		bad.KID, _ = NewKID()
		tc.edit(&bad)
		if err := s.Put(ctx, bad); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Put(%+v) = %v; want an error containing %q", bad, err, tc.msg)
		}
	}
	if _, err := s.Get(ctx, "news", KID{9}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, "news.x", kid); err == nil {
		t.Fatal("Get with an invalid channel succeeded")
	}
	unopened, _ := New(n.js, newLocal(t, "k1"), Config{}, nil)
	if err := unopened.Put(ctx, k); err == nil || !strings.Contains(err.Error(), "not open") {
		t.Fatalf("Put before Open = %v", err)
	}
}

func TestListAtDelete(t *testing.T) {
	ctx := t.Context()
	n := startNATS(t)
	s := openStore(t, n, newLocal(t, "k1"), Config{})
	var news []Key
	for _, p := range []int64{200, 0, 100} {
		k, err := s.Generate(ctx, "news", SchemeCBCS, p)
		if err != nil {
			t.Fatal(err)
		}
		news = append(news, k)
	}
	sports, _ := s.Generate(ctx, "sports", SchemeCENC, 0)
	s.Generate(ctx, "news2", SchemeCENC, 0)

	keys, err := s.List(ctx, "news")
	if err != nil {
		t.Fatal(err)
	}
	var periods []int64
	for _, k := range keys {
		periods = append(periods, k.Period)
	}
	if len(keys) != 3 || periods[0] != 0 || periods[1] != 100 || periods[2] != 200 {
		t.Fatalf("List(news) periods %v, want [0 100 200]", periods)
	}
	if !bytes.Equal(keys[2].Value, news[0].Value) {
		t.Fatal("List returned wrong key values")
	}
	for _, tc := range []struct {
		segment int64
		period  int64 // -1: none
	}{{0, 0}, {99, 0}, {100, 100}, {150, 100}, {1 << 40, 200}, {-1, -1}} {
		k, err := s.At(ctx, "news", tc.segment)
		if tc.period < 0 {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("At(%d) = %+v, %v; want ErrNotFound", tc.segment, k, err)
			}
			continue
		}
		if err != nil || k.Period != tc.period {
			t.Errorf("At(%d) = period %d, %v; want %d", tc.segment, k.Period, err, tc.period)
		}
	}
	if keys, err := s.List(ctx, "empty"); err != nil || len(keys) != 0 {
		t.Fatalf("List(empty) = %v, %v", keys, err)
	}

	if err := s.DeleteChannel(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	if keys, err := s.List(ctx, "news"); err != nil || len(keys) != 0 {
		t.Fatalf("List after DeleteChannel = %d keys, %v", len(keys), err)
	}
	if _, err := s.Get(ctx, "news", news[0].KID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after DeleteChannel = %v, want ErrNotFound (not a cached key)", err)
	}
	for _, ch := range []string{"sports", "news2"} {
		if keys, err := s.List(ctx, ch); err != nil || len(keys) != 1 {
			t.Fatalf("List(%s) after deleting news = %d keys, %v", ch, len(keys), err)
		}
	}
	if got, err := s.Get(ctx, "sports", sports.KID); err != nil || !bytes.Equal(got.Value, sports.Value) {
		t.Fatalf("Get(sports) = %v", err)
	}
	if err := s.DeleteChannel(ctx, "news"); err != nil {
		t.Fatalf("second DeleteChannel = %v", err)
	}
}

// countingKMS counts Decrypt calls.
type countingKMS struct {
	kms.KMS
	decrypts atomic.Int64
}

func (c *countingKMS) Decrypt(ctx context.Context, blob, aad []byte) ([]byte, error) {
	c.decrypts.Add(1)
	return c.KMS.Decrypt(ctx, blob, aad)
}

func TestCacheSparesKMS(t *testing.T) {
	ctx := t.Context()
	n := startNATS(t)
	l := newLocal(t, "k1")
	ck := &countingKMS{KMS: l}
	writer := openStore(t, n, l, Config{Bucket: "onair_keys_cache"})
	reader := openStore(t, n, ck, Config{Bucket: "onair_keys_cache", CacheSize: 1})
	a, _ := writer.Generate(ctx, "news", SchemeCBCS, 0)
	b, _ := writer.Generate(ctx, "news", SchemeCBCS, 1)
	for range 5 {
		if _, err := reader.Get(ctx, "news", a.KID); err != nil {
			t.Fatal(err)
		}
	}
	if got := ck.decrypts.Load(); got != 1 {
		t.Fatalf("5 Gets of one key: %d KMS decrypts, want 1", got)
	}
	reader.Get(ctx, "news", b.KID) // evicts a (cache of 1)
	reader.Get(ctx, "news", a.KID)
	if got := ck.decrypts.Load(); got != 3 {
		t.Fatalf("after eviction: %d KMS decrypts, want 3", got)
	}
	noCache := openStore(t, n, ck, Config{Bucket: "onair_keys_cache", CacheSize: -1})
	noCache.Get(ctx, "news", a.KID)
	noCache.Get(ctx, "news", a.KID)
	if got := ck.decrypts.Load(); got != 5 {
		t.Fatalf("without a cache: %d KMS decrypts, want 5", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	ctx := t.Context()
	n := startNATS(t)
	s := openStore(t, n, newLocal(t, "k1"), Config{CacheSize: 4})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			ch := []string{"a", "b"}[g%2]
			for i := range 10 {
				k, err := s.Generate(ctx, ch, SchemeCBCS, int64(g*100+i))
				if err == nil {
					var got Key
					got, err = s.Get(ctx, ch, k.KID)
					if err == nil && !bytes.Equal(got.Value, k.Value) {
						err = errors.New("wrong key")
					}
				}
				if err == nil {
					_, err = s.List(ctx, ch)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, ch := range []string{"a", "b"} {
		if keys, err := s.List(ctx, ch); err != nil || len(keys) != 20 {
			t.Fatalf("List(%s) = %d keys, %v; want 20", ch, len(keys), err)
		}
	}
}
