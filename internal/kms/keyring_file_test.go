package kms

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReadKeyringFileModes(t *testing.T) {
	dir := t.TempDir()
	text := "k1 " + b64A + "\n"
	for _, tc := range []struct {
		mode os.FileMode
		err  string
	}{
		{0o600, ""},
		{0o400, ""},
		{0o640, "has mode 0640: group and others must have no access (run chmod 600"},
		{0o604, "has mode 0604"},
		{0o644, "has mode 0644"},
		{0o620, "has mode 0620"},
	} {
		path := filepath.Join(dir, "keyring-"+tc.mode.String())
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, tc.mode); err != nil {
			t.Fatal(err)
		}
		r, err := ReadKeyringFile(path)
		if tc.err == "" {
			if err != nil || r.Current != "k1" {
				t.Errorf("mode %04o: ReadKeyringFile = %q, %v", tc.mode, r.Current, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("mode %04o: ReadKeyringFile = %v; want an error containing %q", tc.mode, err, tc.err)
		}
	}
	if _, err := ReadKeyringFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("ReadKeyringFile(directory) = %v", err)
	}
	if _, err := ReadKeyringFile(filepath.Join(dir, "missing")); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("ReadKeyringFile(missing) = %v", err)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("k1 "+b64S+"\n"), 0o600)
	if _, err := ReadKeyringFile(bad); err == nil || !strings.Contains(err.Error(), "line 1") || !strings.Contains(err.Error(), bad) {
		t.Errorf("ReadKeyringFile(bad) = %v; want the line and the path", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func TestEnsureKeyringFile(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "data", "secrets", "keyring")
	created, err := EnsureKeyringFile(path, now)
	if err != nil || !created {
		t.Fatalf("EnsureKeyringFile = %v, %v; want created", created, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("keyring mode %v, %v; want 0600", st.Mode(), err)
	}
	if st, _ := os.Stat(filepath.Dir(path)); st.Mode().Perm() != 0o700 {
		t.Fatalf("keyring directory mode %v, want 0700", st.Mode())
	}
	first, _ := os.ReadFile(path)
	l, err := LoadLocalFile(path)
	if err != nil {
		t.Fatalf("LoadLocalFile(new keyring): %v\n%s", err, first)
	}
	if !strings.HasPrefix(l.Current(), "kek-20261101-") {
		t.Fatalf("current KEK %q", l.Current())
	}
	created, err = EnsureKeyringFile(path, now)
	if err != nil || created {
		t.Fatalf("second EnsureKeyringFile = %v, %v; want not created", created, err)
	}
	if again, _ := os.ReadFile(path); string(again) != string(first) {
		t.Fatal("second EnsureKeyringFile changed the keyring")
	}
}

func TestRotateKeyringFile(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "keyring")
	if _, err := EnsureKeyringFile(path, now); err != nil {
		t.Fatal(err)
	}
	l1, _ := LoadLocalFile(path)
	blob, err := l1.Encrypt(ctx, []byte("content key 0001"), []byte("news/1"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := RotateKeyringFile(path, "", now.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "kek-20261201-") {
		t.Fatalf("new KEK id %q", id)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("rotated keyring mode %v", st.Mode())
	}
	l2, err := LoadLocalFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if l2.Current() != id || !slices.Equal(l2.IDs(), []string{id, l1.Current()}) {
		t.Fatalf("rotated keyring: current %q ids %v", l2.Current(), l2.IDs())
	}
	if got, err := l2.Decrypt(ctx, blob, []byte("news/1")); err != nil || string(got) != "content key 0001" {
		t.Fatalf("old blob after rotation: %q, %v", got, err)
	}
	if _, err := RotateKeyringFile(path, id, now); err == nil || !strings.Contains(err.Error(), "already holds KEK id") {
		t.Fatalf("rotation to an existing id = %v", err)
	}
	if _, err := RotateKeyringFile(path, "bad id", now); err == nil {
		t.Fatal("rotation to an invalid id succeeded")
	}
	named, err := RotateKeyringFile(path, "hsm-migration.1", now)
	if err != nil || named != "hsm-migration.1" {
		t.Fatalf("named rotation = %q, %v", named, err)
	}
	os.Chmod(path, 0o644)
	if _, err := RotateKeyringFile(path, "", now); err == nil || !strings.Contains(err.Error(), "mode 0644") {
		t.Fatalf("rotation of a world-readable keyring = %v", err)
	}
}

// Concurrent rotations must not lose a KEK (each one's id ends up in the file).
func TestRotateKeyringFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring")
	if _, err := EnsureKeyringFile(path, time.Now()); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ids []string
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			id, err := RotateKeyringFile(path, "r"+string(rune('0'+i)), time.Now())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			ids = append(ids, id)
			mu.Unlock()
		})
	}
	wg.Wait()
	r, err := ReadKeyringFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if !slices.Contains(r.IDs(), id) {
			t.Errorf("KEK %q lost; keyring holds %v", id, r.IDs())
		}
	}
	if len(r.KEKs) != 7 {
		t.Errorf("keyring holds %d KEKs, want 7", len(r.KEKs))
	}
}
