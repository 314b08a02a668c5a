package objstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// storeContract is the table every backend must pass (S3 reuses it).
func storeContract(t *testing.T, s Store) {
	ctx := context.Background()
	if err := s.Put(ctx, "ch/720p/1.m4s", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "ch/720p/init.mp4", []byte("init")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "other/a/1.m4s", []byte("x")); err != nil {
		t.Fatal(err)
	}
	b, err := s.Get(ctx, "ch/720p/1.m4s")
	if err != nil || string(b) != "one" {
		t.Fatalf("Get = %q, %v", b, err)
	}
	if _, err := s.Get(ctx, "ch/720p/2.m4s"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing = %v, want ErrNotFound", err)
	}
	keys, err := s.List(ctx, "ch/")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	if want := []string{"ch/720p/1.m4s", "ch/720p/init.mp4"}; !slices.Equal(keys, want) {
		t.Fatalf("List = %v, want %v", keys, want)
	}
	if err := s.Delete(ctx, "ch/720p/1.m4s"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "ch/720p/1.m4s"); err != nil {
		t.Fatalf("delete missing: %v", err)
	}
	if _, err := s.Get(ctx, "ch/720p/1.m4s"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	for _, bad := range []string{"", "../x", "a/../../x", "/abs", "a//b", "a/./b", "a\\b", "a/b\x00"} {
		if err := s.Put(ctx, bad, nil); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", bad, err)
		}
		if _, err := s.Get(ctx, bad); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", bad, err)
		}
	}
}

func TestFSContract(t *testing.T) {
	s, err := NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	storeContract(t, s)
}

func TestFSPutErrorIsClear(t *testing.T) {
	dir := t.TempDir()
	// A file where a directory must go makes every Put under it fail
	// (permissions would not do: tests may run as root).
	if err := os.WriteFile(filepath.Join(dir, "ch"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _ := NewFS(dir)
	err := s.Put(context.Background(), "ch/a/1.m4s", []byte("x"))
	if err == nil {
		t.Fatal("want an error")
	}
	if got := err.Error(); !strings.Contains(got, "ch/a/1.m4s") {
		t.Fatalf("error %q does not name the key", got)
	}
}

func FuzzValidKey(f *testing.F) {
	for _, s := range []string{"a/b.m4s", "../x", "a//b", "."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if ValidKey(key) != nil {
			return
		}
		clean := filepath.Clean("/" + key)
		if clean != "/"+key {
			t.Fatalf("valid key %q is not clean (%q)", key, clean)
		}
	})
}
