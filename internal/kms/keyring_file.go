package kms

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// ReadKeyringFile reads and parses a keyring file. It refuses a file that
// is not regular or that group or others may read or write.
func ReadKeyringFile(path string) (Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return Keyring{}, fmt.Errorf("kms: open keyring: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Keyring{}, fmt.Errorf("kms: keyring %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return Keyring{}, fmt.Errorf("kms: keyring %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return Keyring{}, fmt.Errorf("kms: keyring %s has mode %04o: group and others must have no access (run chmod 600 %s)", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyringSize+1))
	if err != nil {
		return Keyring{}, fmt.Errorf("kms: read keyring %s: %w", path, err)
	}
	r, err := ParseKeyring(data)
	if err != nil {
		return Keyring{}, fmt.Errorf("%w (in %s)", err, path)
	}
	return r, nil
}

// LoadLocalFile reads a keyring file into a Local.
func LoadLocalFile(path string) (*Local, error) {
	r, err := ReadKeyringFile(path)
	if err != nil {
		return nil, err
	}
	return NewLocal(r)
}

// EnsureKeyringFile creates a keyring file holding one new current KEK
// when path does not exist (mode 0600; missing directories 0700), and
// reports whether it did. An existing file is left alone: it is checked
// when read.
func EnsureKeyringFile(path string, now time.Time) (created bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("kms: keyring directory: %w", err)
	}
	k, err := GenerateKEK("", now)
	if err != nil {
		return false, err
	}
	data, err := Keyring{Current: k.ID, KEKs: []KEK{k}}.Encode()
	if err != nil {
		return false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("kms: create keyring: %w", err)
	}
	if err := writeSync(f, data); err != nil {
		os.Remove(path)
		return false, fmt.Errorf("kms: write keyring %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return true, err
	}
	return true, nil
}

// RotateKeyringFile adds a new KEK to a keyring file and makes it current;
// the previous KEKs stay (they still decrypt). The file is replaced
// atomically, under an exclusive lock on path+".lock" so two rotations
// cannot lose a KEK. Running processes keep their loaded keyring until
// they read the file again. It returns the new KEK's id (id, or a
// generated one when id is "").
func RotateKeyringFile(path, id string, now time.Time) (string, error) {
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	r, err := ReadKeyringFile(path)
	if err != nil {
		return "", err
	}
	var k KEK
	for range 8 {
		if k, err = GenerateKEK(id, now); err != nil {
			return "", err
		}
		if !slices.Contains(r.IDs(), k.ID) {
			break
		}
		if id != "" {
			return "", fmt.Errorf("kms: keyring %s already holds KEK id %q", path, id)
		}
	}
	if slices.Contains(r.IDs(), k.ID) {
		return "", fmt.Errorf("kms: no free KEK id for %s", now.UTC().Format(time.DateOnly))
	}
	data, err := Keyring{Current: k.ID, KEKs: append([]KEK{k}, r.KEKs...)}.Encode()
	if err != nil {
		return "", err
	}
	if err := replaceFile(path, data); err != nil {
		return "", err
	}
	return k.ID, nil
}

// replaceFile writes data to a 0600 temporary file beside path and
// renames it over path.
func replaceFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*") // mode 0600
	if err != nil {
		return fmt.Errorf("kms: write keyring: %w", err)
	}
	if err := writeSync(f, data); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("kms: write keyring %s: %w", f.Name(), err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("kms: replace keyring: %w", err)
	}
	return syncDir(dir)
}

func writeSync(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("kms: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("kms: sync %s: %w", dir, err)
	}
	return nil
}

// lockFile takes an exclusive flock on path (created 0600), released by
// the returned function or when the process exits.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("kms: keyring lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("kms: keyring lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
