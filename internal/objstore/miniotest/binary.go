package miniotest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// Module is the MinIO release built when no binary is found. Keep it equal
// to the one in scripts/minio.sh.
const Module = "github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"

// CacheDir is where a built MinIO binary is kept: $HOME/.cache/onair/bin.
func CacheDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("miniotest: cache dir: %w", err)
	}
	return filepath.Join(home, ".cache", "onair", "bin"), nil
}

// Binary returns the path of a MinIO server binary: $ONAIR_MINIO if set,
// else "minio" on PATH, else the cached build in CacheDir. If there is
// none, it builds Module into CacheDir (about 3 minutes on 2 cores) under
// a file lock, so test packages running in parallel build it once.
func Binary(t testing.TB) (string, error) {
	if p := os.Getenv("ONAIR_MINIO"); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("miniotest: ONAIR_MINIO=%s: %w", p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "minio")
	if executable(bin) == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("miniotest: %w", err)
	}
	unlock, err := lock(filepath.Join(dir, ".minio.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if executable(bin) == nil { // built by another process while we waited
		return bin, nil
	}
	t.Logf("miniotest: no MinIO binary (ONAIR_MINIO, PATH, %s): building %s, about 3 minutes on 2 cores", bin, Module)
	start := time.Now()
	if err := build(dir, bin); err != nil {
		return "", err
	}
	t.Logf("miniotest: built %s in %v", bin, time.Since(start).Round(time.Second))
	return bin, nil
}

func executable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

// lock takes an exclusive flock on path, waiting for other holders.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("miniotest: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("miniotest: lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// build installs Module into a fresh directory beside bin, then renames
// the binary into place, so an interrupted build never leaves a torn one.
func build(dir, bin string) error {
	gobin, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return fmt.Errorf("miniotest: %w", err)
	}
	defer os.RemoveAll(gobin)
	gotool, err := exec.LookPath("go")
	if err != nil {
		gotool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(gotool, "install", Module)
	cmd.Dir = gobin // outside any module: go install pkg@version ignores go.mod
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("miniotest: cannot build MinIO (go install %s): %w\n%s\nhint: set ONAIR_MINIO to a minio binary, or run scripts/minio.sh", Module, err, tail(out, 4000))
	}
	if err := os.Rename(filepath.Join(gobin, "minio"), bin); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("miniotest: go install %s produced no minio binary", Module)
		}
		return fmt.Errorf("miniotest: %w", err)
	}
	return nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
