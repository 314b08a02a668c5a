package miniotest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Credentials of every test server (MinIO's root user).
const (
	AccessKey = "onairtest"
	SecretKey = "onairtest-secret"
)

// Bounded waits.
const (
	startTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
	pollEvery    = 50 * time.Millisecond
)

// Server is one MinIO server process on 127.0.0.1 with its data in a test
// temporary directory.
type Server struct {
	// Endpoint is the S3 API's host:port (plain http).
	Endpoint string

	bin     string
	dir     string
	console string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	out  *tailBuffer
}

// Start starts a MinIO server with an empty data directory and waits until
// it is live with its object layer initialized. It kills the server in t.Cleanup. Not finding or building a
// binary fails the test: S3 support is not tested otherwise.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary(t)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{bin: bin, dir: t.TempDir()}
	t.Cleanup(func() { s.stop() })
	// The ports are picked by binding :0 and closing, so another process
	// may take one before MinIO binds it: try again with new ports.
	for attempt := 0; ; attempt++ {
		addr, console, err := freePorts()
		if err != nil {
			t.Fatal(err)
		}
		s.Endpoint, s.console = addr, console
		err = s.start()
		if err == nil {
			return s
		}
		if attempt == 2 {
			t.Fatal(err)
		}
		t.Logf("miniotest: %v; retrying on other ports", err)
	}
}

// Stop stops the server (SIGTERM, then SIGKILL after 10 s) and waits for it
// to exit: requests to Endpoint are then refused.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
}

// Restart starts the server again on the same port with the same data, and
// waits until it is live.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("miniotest: already running")
	}
	cmd := exec.Command(s.bin, "server", filepath.Join(s.dir, "data"),
		"--address", s.Endpoint, "--console-address", s.console,
		"--certs-dir", filepath.Join(s.dir, "certs"), "--quiet")
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+AccessKey,
		"MINIO_ROOT_PASSWORD="+SecretKey,
		"MINIO_UPDATE=off",
		"HOME="+s.dir, // MinIO writes ~/.minio; keep it in the test's directory
	)
	s.out = &tailBuffer{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	// Its own process group, so Stop reaches any child; killed with the
	// test binary even if that dies before t.Cleanup (go test -timeout).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("miniotest: start %s: %w", s.bin, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	s.cmd, s.done = cmd, done

	url := "http://" + s.Endpoint + "/minio/health/live"
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-done:
			s.cmd, s.done = nil, nil
			return fmt.Errorf("miniotest: minio exited at start (%v):\n%s", cmd.ProcessState, s.out.String())
		default:
		}
		// Live answers 200 before the object layer is up, flagging that
		// with X-Minio-Server-Status: offline; S3 requests then get 503.
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && resp.Header.Get("X-Minio-Server-Status") == "" {
				return nil
			}
		}
		if time.Now().After(deadline) {
			s.killLocked()
			return fmt.Errorf("miniotest: minio not live at %s after %v:\n%s", url, startTimeout, s.out.String())
		}
		time.Sleep(pollEvery)
	}
}

func (s *Server) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
		s.cmd, s.done = nil, nil
		return nil
	case <-time.After(stopTimeout):
	}
	s.killLocked()
	return nil
}

func (s *Server) killLocked() {
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
	s.cmd, s.done = nil, nil
}

// freePorts returns two loopback addresses that were free a moment ago.
func freePorts() (string, string, error) {
	var addrs [2]string
	for i := range addrs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", "", fmt.Errorf("miniotest: %w", err)
		}
		defer ln.Close() // both held until both are picked, so they differ
		addrs[i] = ln.Addr().String()
	}
	return addrs[0], addrs[1], nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if len(w.b) > w.max {
		w.b = append(w.b[:0], w.b[len(w.b)-w.max:]...)
	}
	return len(p), nil
}

func (w *tailBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}
