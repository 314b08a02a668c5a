package session

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"onair/internal/kms"
)

// secretPII is personal data distinctive enough to search for.
var secretPII = PII{IP: "203.0.113.177", UserAgent: "SecretAgent/7.3 (x-unique-ua)", UserID: "user-4242-secret"}

// forms are the encodings of s that must never be at rest.
func forms(s string) [][]byte {
	return [][]byte{[]byte(s), []byte(hex.EncodeToString([]byte(s))), []byte(base64.StdEncoding.EncodeToString([]byte(s))),
		[]byte(base64.RawURLEncoding.EncodeToString([]byte(s)))}
}

func TestPIINotStoredInClear(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	in := f.session("acme", "news", "pii-session-1")
	in.PII = secretPII
	if _, err := f.s.Create(ctx, in); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(time.Hour) // a Touch writes the record again
	if err := f.s.Touch(ctx, "acme", "news", "pii-session-1"); err != nil {
		t.Fatal(err)
	}
	e := raw(t, f.n.js, DefaultBucket, "acme.news.pii-session-1")
	var r record
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		t.Fatal(err)
	}
	if r.DEK != "20260301" || len(r.PII) < 12+16 || r.ID != "pii-session-1" {
		t.Fatalf("stored record %s", e.Value())
	}
	secrets := []string{secretPII.IP, secretPII.UserAgent, secretPII.UserID, "x-unique-ua", "4242-secret"}
	for _, s := range secrets {
		for _, form := range forms(s) {
			if bytes.Contains(e.Value(), form) {
				t.Fatalf("stored record holds %q (as %q): %s", s, form, e.Value())
			}
		}
	}
	// The JetStream files: wait until the record has reached them (its id
	// is in clear), then look for the personal data.
	eventually(t, 5*time.Second, "record written to the store directory", func() bool {
		return dirContains(t, f.n.dir, []byte("pii-session-1"))
	})
	for _, s := range secrets {
		for _, form := range forms(s) {
			if dirContains(t, f.n.dir, form) {
				t.Fatalf("a JetStream file holds %q (as %q)", s, form)
			}
		}
	}
	got, err := f.s.Get(ctx, "acme", "news", "pii-session-1")
	if err != nil || got.PII != secretPII {
		t.Fatalf("Get = %+v, %v; want the personal data back", got, err)
	}
}

func dirContains(t *testing.T, dir string, b []byte) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found = bytes.Contains(data, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestPIILogRedacted(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	sess := Session{ID: "x", PII: secretPII}
	log.Info("session", "pii", secretPII, "session", sess)
	buf.WriteString(fmt.Sprintf("%v %+v %s", sess, sess, fmt.Errorf("bad session %v", sess)))
	for _, s := range []string{secretPII.IP, secretPII.UserID, secretPII.UserAgent} {
		if strings.Contains(buf.String(), s) {
			t.Fatalf("log line holds %q: %s", s, buf.String())
		}
	}
	if !strings.Contains(buf.String(), "session.id=x") || !strings.Contains(buf.String(), "[redacted]") {
		t.Fatalf("log lines: %s", buf.String())
	}
}

func TestWrongKMS(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	f.create(t, "", "news", "w1")
	sameID := newLocal(t, "kek-1") // same KEK id, another key
	for _, tc := range []struct {
		name string
		k    kms.KMS
		want error
	}{
		{"another keyring", newLocal(t, "kek-other"), kms.ErrUnknownKEK},
		{"same id, other key", sameID, kms.ErrDecrypt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other, _ := newStore(t, f.n.connect(t), tc.k, Config{Now: f.clk.Now})
			_, err := other.Get(ctx, "", "news", "w1")
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "data key 20260301") {
				t.Fatalf("Get with %s = %v, want %v naming the data key", tc.name, err, tc.want)
			}
			if _, err := other.List(ctx, "", "news"); !errors.Is(err, tc.want) {
				t.Fatalf("List with %s = %v, want %v", tc.name, err, tc.want)
			}
			// It cannot write personal data under the day's key either.
			if _, err := other.Create(ctx, f.session("", "news", "w2")); !errors.Is(err, tc.want) {
				t.Fatalf("Create with %s = %v, want %v", tc.name, err, tc.want)
			}
			// Check needs no personal data.
			if err := other.Check(ctx, "", "news", "w1"); err != nil {
				t.Fatalf("Check with %s = %v", tc.name, err)
			}
		})
	}
	// The rightful KMS with a rotated keyring still reads it.
	rotated := localKMS(t, kms.Keyring{Current: "kek-2", KEKs: append(newKeyring(t, "kek-2").KEKs, f.ring.KEKs...)})
	s, _ := newStore(t, f.n.js, rotated, Config{Now: f.clk.Now})
	if got, err := s.Get(ctx, "", "news", "w1"); err != nil || got.PII.UserID != "viewer-w1" {
		t.Fatalf("Get after KEK rotation = %+v, %v", got, err)
	}
}

func TestPIIMovedToAnotherSession(t *testing.T) {
	f := newFixture(t)
	ctx := testCtx(t)
	f.create(t, "", "news", "from")
	f.create(t, "", "news", "to")
	kv, err := f.n.js.KeyValue(ctx, DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	var from, to record
	_ = json.Unmarshal(raw(t, f.n.js, DefaultBucket, "_.news.from").Value(), &from)
	_ = json.Unmarshal(raw(t, f.n.js, DefaultBucket, "_.news.to").Value(), &to)
	to.PII = from.PII
	data, _ := json.Marshal(to)
	if _, err := kv.Put(ctx, "_.news.to", data); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Get(ctx, "", "news", "to"); err == nil || !strings.Contains(err.Error(), "does not authenticate") {
		t.Fatalf("Get(session holding another's PII) = %v, want an authentication error", err)
	}
}

// TestDataKeyShredding: a day's key goes once older than TTL + 48 h; the
// personal data of sessions not written since is gone, that of sessions
// touched since moved to a newer key and survives.
func TestDataKeyShredding(t *testing.T) {
	f := newFixture(t) // 2026-03-01 12:00 UTC, TTL 6 h: horizon 54 h
	ctx := testCtx(t)
	f.create(t, "", "news", "idle")
	f.create(t, "", "news", "active")
	keyKV, err := f.n.js.KeyValue(ctx, DefaultKeyBucket)
	if err != nil {
		t.Fatal(err)
	}
	dekOf := func(id string) string {
		var r record
		_ = json.Unmarshal(raw(t, f.n.js, DefaultBucket, "_.news."+id).Value(), &r)
		return r.DEK
	}
	has := func(id string) bool {
		_, err := keyKV.Get(ctx, dekPrefix+id)
		if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}

	f.clk.Advance(24 * time.Hour) // 03-02 12:00: day 1's key is 36 h old
	if err := f.s.Touch(ctx, "", "news", "active"); err != nil {
		t.Fatal(err)
	}
	if dekOf("active") != "20260302" || dekOf("idle") != "20260301" || !has("20260301") || !has("20260302") {
		t.Fatalf("day 2: active under %s, idle under %s, keys 0301 %v 0302 %v", dekOf("active"), dekOf("idle"), has("20260301"), has("20260302"))
	}

	f.clk.Advance(24 * time.Hour) // 03-03 12:00: day 1's key is 60 h old
	if err := f.s.Touch(ctx, "", "news", "active"); err != nil {
		t.Fatal(err)
	}
	if dekOf("active") != "20260303" || has("20260301") || !has("20260302") || !has("20260303") {
		t.Fatalf("day 3: active under %s, keys 0301 %v 0302 %v 0303 %v; want day 1 shredded", dekOf("active"), has("20260301"), has("20260302"), has("20260303"))
	}
	fresh, _ := newStore(t, f.n.connect(t), f.kms, Config{Now: f.clk.Now}) // no cached keys
	for _, s := range []*Store{f.s, fresh} {
		idle, err := s.Get(ctx, "", "news", "idle")
		if err != nil || idle.PII != (PII{}) || idle.ID != "idle" {
			t.Fatalf("Get(idle) = %+v, %v; want the session without personal data", idle, err)
		}
		active, err := s.Get(ctx, "", "news", "active")
		if err != nil || active.PII.UserID != "viewer-active" {
			t.Fatalf("Get(active) = %+v, %v; want its personal data", active, err)
		}
	}
	// The plain key is gone from memory too.
	if a := f.s.keys.cached("20260301", f.clk.Now()); a != nil {
		t.Fatal("shredded key still cached")
	}
}

// TestDataKeyRace: nodes making the day's key at once agree on one.
func TestDataKeyRace(t *testing.T) {
	n := startNATS(t)
	k := newLocal(t, "k")
	clk := newClock()
	ctx := testCtx(t)
	first, _ := newStore(t, n.js, k, Config{Now: clk.Now})
	if _, _, err := first.buckets(ctx); err != nil {
		t.Fatal(err)
	}
	var stores []*Store
	for range 4 {
		s, _ := newStore(t, n.connect(t), k, Config{Now: clk.Now})
		stores = append(stores, s)
	}
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			in := Session{ID: string(rune('a' + i)), Channel: "news", TokenExpires: clk.Now().Add(time.Hour), PII: PII{UserID: string(rune('a' + i))}}
			if _, err := s.Create(ctx, in); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, s := range stores {
		list, err := s.List(ctx, "", "news")
		if err != nil || len(list) != len(stores) {
			t.Fatalf("List = %d sessions, %v; want %d readable by every node", len(list), err, len(stores))
		}
		for _, sess := range list {
			if sess.PII.UserID != sess.ID {
				t.Fatalf("session %s reads user id %q", sess.ID, sess.PII.UserID)
			}
		}
	}
}
