package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "onair-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "onair")
	build := exec.Command("go", "build", "-o", binPath, "../../cmd/onair")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build onair:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for a writer process and a reader test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is one running onair binary.
type server struct {
	t       *testing.T
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:PORT
	rtmp    string // 127.0.0.1:PORT
	srt     string // 127.0.0.1:PORT
	dataDir string
	logs    *syncBuffer
	done    chan error
}

func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer runs `onair serve` on fresh loopback ports with dataDir
// ("" for a new temp dir) and extra args, and waits until /readyz answers.
func startServer(t *testing.T, dataDir string, extra ...string) *server {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	return startServerAt(t, dataDir, fmt.Sprintf("http://127.0.0.1:%d", freePort(t, "tcp")),
		fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp")), fmt.Sprintf("127.0.0.1:%d", freePort(t, "udp")), extra...)
}

// startServerAt is startServer on given addresses (base is http://host:port).
func startServerAt(t *testing.T, dataDir, base, rtmp, srt string, extra ...string) *server {
	t.Helper()
	s := &server{t: t, dataDir: dataDir, logs: &syncBuffer{}, done: make(chan error, 1), base: base, rtmp: rtmp, srt: srt}
	args := append([]string{"serve", "--data", dataDir, "--http", strings.TrimPrefix(s.base, "http://"), "--rtmp", s.rtmp, "--srt", s.srt}, extra...)
	s.cmd = exec.Command(binPath, args...)
	s.cmd.Env = os.Environ()
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("onair logs:\n%s", tail(s.logs.String(), 80))
		}
	})
	waitFor(t, 30*time.Second, "onair /readyz", func() bool {
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("onair exited early: %v\n%s", err, s.logs.String())
		default:
		}
		code, _, _ := get(s.base + "/readyz")
		return code == 200
	})
	return s
}

// stop sends SIGTERM and waits for a clean exit (status 0).
func (s *server) stop() {
	select {
	case err := <-s.done: // already gone (killed by the test)
		s.done <- err
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			s.t.Errorf("onair did not exit cleanly on SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		s.t.Errorf("onair did not stop within 20s of SIGTERM")
		<-s.done
	}
}

func tail(s string, lines int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

// channel is the part of the API's channel JSON the tests use.
type channel struct {
	Name   string `json:"name"`
	State  string `json:"state"`
	Ingest struct {
		RTMPURL       string `json:"rtmp_url"`
		StreamKey     string `json:"stream_key"`
		SRTURL        string `json:"srt_url"`
		SRTStreamID   string `json:"srt_stream_id"`
		SRTPassphrase string `json:"srt_passphrase"`
	} `json:"ingest"`
	BackupIngest struct {
		RTMPURL   string `json:"rtmp_url"`
		StreamKey string `json:"stream_key"`
	} `json:"backup_ingest"`
	Inputs *struct {
		Active  string `json:"active"`
		Pending string `json:"pending"`
		Manual  string `json:"manual"`
	} `json:"inputs"`
	Playback struct {
		HLS  string `json:"hls"`
		DASH string `json:"dash"`
		Page string `json:"page"`
	} `json:"playback"`
	Renditions []struct {
		Name string `json:"name"`
	} `json:"renditions"`
}

func (s *server) createChannel(t *testing.T, name string, lowLatency bool) channel {
	t.Helper()
	body := fmt.Sprintf(`{"name":%q,"low_latency":%v}`, name, lowLatency)
	resp, err := http.Post(s.base+"/api/v1/channels", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create channel %s: %d %s", name, resp.StatusCode, b)
	}
	var c channel
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func (s *server) getChannel(t *testing.T, name string) (channel, int) {
	t.Helper()
	code, _, b := get(s.base + "/api/v1/channels/" + name)
	var c channel
	if code == 200 {
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
	}
	return c, code
}

// get fetches a URL with a short timeout.
func get(url string) (int, http.Header, []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// publisher is a real ffmpeg pushing a synthetic source.
type publisher struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan error
}

// source returns ffmpeg input args for a test pattern with a tone.
func source(size string, fps int) []string {
	return []string{"-re", "-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%s:rate=%d", size, fps),
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"}
}

func encodeArgs(fps int) []string {
	return []string{"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", fmt.Sprint(2 * fps),
		"-keyint_min", fmt.Sprint(2 * fps), "-sc_threshold", "0", "-bf", "0", "-b:v", "800k", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "96k"}
}

// publish starts ffmpeg with args (inputs, encoding, output) and stops it
// when the test ends.
func publish(t *testing.T, args ...string) *publisher {
	t.Helper()
	p := &publisher{logs: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-nostdin"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(p.stop)
	return p
}

func (p *publisher) stop() {
	select {
	case err := <-p.done: // already gone (killed by the test)
		p.done <- err
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		err := <-p.done
		p.done <- err
	}
}

// exited reports whether ffmpeg has exited, and its error.
func (p *publisher) exited(within time.Duration) (bool, error) {
	select {
	case err := <-p.done:
		p.done <- err
		return true, err
	case <-time.After(within):
		return false, nil
	}
}

func publishRTMP(t *testing.T, url, size string, fps int, seconds int) *publisher {
	args := source(size, fps)
	if seconds > 0 {
		args = append(args, "-t", fmt.Sprint(seconds))
	}
	args = append(args, encodeArgs(fps)...)
	return publish(t, append(args, "-f", "flv", url)...)
}
