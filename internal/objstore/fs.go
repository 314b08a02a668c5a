package objstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FS stores objects as files under a root directory.
type FS struct {
	root string
}

// NewFS returns a filesystem store rooted at dir. It creates nothing until
// the first Put.
func NewFS(dir string) (*FS, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("objstore: root %q: %w", dir, err)
	}
	return &FS{root: abs}, nil
}

func (f *FS) path(key string) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", err
	}
	return filepath.Join(f.root, filepath.FromSlash(key)), nil
}

// Put writes data to a temporary file in the target directory, syncs
// nothing (media objects are cheap to lose on power failure, never torn),
// and renames it into place.
func (f *FS) Put(ctx context.Context, key string, data []byte) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("objstore: put %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("objstore: put %s: %w", key, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), p)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("objstore: put %s: %w", key, werr)
	}
	return nil
}

// Get reads the object.
func (f *FS) Get(ctx context.Context, key string) ([]byte, error) {
	p, err := f.path(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("objstore: get %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("objstore: get %s: %w", key, err)
	}
	return b, nil
}

// Delete removes the object and, best effort, its now-empty directory.
func (f *FS) Delete(ctx context.Context, key string) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("objstore: delete %s: %w", key, err)
	}
	return nil
}

// List walks the directory under prefix.
func (f *FS) List(ctx context.Context, prefix string) ([]string, error) {
	start := f.root
	if prefix != "" {
		p, err := f.path(strings.TrimSuffix(prefix, "/"))
		if err != nil {
			return nil, err
		}
		start = p
	}
	var keys []string
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(f.root, p)
		if err != nil {
			return err
		}
		keys = append(keys, filepath.ToSlash(rel))
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("objstore: list %s: %w", prefix, err)
	}
	return keys, nil
}
