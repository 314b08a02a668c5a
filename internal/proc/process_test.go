package proc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the exec copying goroutine.
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

func waitDone(t *testing.T, p *Process) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.Wait(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("child did not exit within 10 s")
	}
	return err
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		name       string
		script     string
		wantCode   int
		wantSignal string
		wantTail   string
	}{
		{name: "success", script: "exit 0"},
		{name: "code", script: "echo 'Unknown encoder libx999' >&2; exit 3", wantCode: 3, wantTail: "Unknown encoder libx999"},
		{name: "signal", script: "echo dying >&2; kill -9 $$", wantCode: -1, wantSignal: "SIGKILL", wantTail: "dying"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Start(t.Context(), Config{Path: "/bin/sh", Args: []string{"-c", tt.script}})
			if err != nil {
				t.Fatal(err)
			}
			err = waitDone(t, p)
			if tt.wantCode == 0 && tt.wantSignal == "" {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			var ee *ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("err = %v (%T), want *ExitError", err, err)
			}
			if ee.Code != tt.wantCode || ee.Signal != tt.wantSignal || ee.Tail != tt.wantTail {
				t.Errorf("got %+v, want code %d signal %q tail %q", *ee, tt.wantCode, tt.wantSignal, tt.wantTail)
			}
			if !strings.Contains(err.Error(), tt.wantTail) {
				t.Errorf("Error() = %q, does not include the tail", err.Error())
			}
			if p.Stopped() {
				t.Error("Stopped() = true for a child that exited on its own")
			}
		})
	}
}

func TestStderrLinesAndTail(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	p, err := Start(t.Context(), Config{
		Path: "/bin/sh",
		// 100 numbered lines, then a progress line redrawn with '\r'.
		Args:      []string{"-c", `i=1; while [ $i -le 100 ]; do echo "line $i" >&2; i=$((i+1)); done; printf 'frame=1\rframe=2\r' >&2; exit 1`},
		TailLines: 5,
		OnStderr: func(l string) {
			mu.Lock()
			lines = append(lines, l)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = waitDone(t, p)
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 102 || lines[0] != "line 1" || lines[101] != "frame=2" {
		t.Fatalf("got %d lines (first %q, last %q), want 102 from 'line 1' to 'frame=2'", len(lines), lines[0], lines[len(lines)-1])
	}
	want := "line 98\nline 99\nline 100\nframe=1\nframe=2"
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Tail != want {
		t.Fatalf("err = %v, want ExitError with tail %q", err, want)
	}
	if p.Tail() != want {
		t.Errorf("Tail() = %q", p.Tail())
	}
}

func TestStdinAndExtraFiles(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out syncBuffer
	// cat copies stdin to stdout; the shell then writes to fd 3.
	p, err := Start(t.Context(), Config{
		Path:       "/bin/sh",
		Args:       []string{"-c", "cat; echo extra >&3"},
		Stdin:      true,
		Stdout:     &out,
		ExtraFiles: []*os.File{w},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(p.Stdin(), "hello\n"); err != nil {
		t.Fatal(err)
	}
	if err := p.Stdin().Close(); err != nil {
		t.Fatal(err)
	}
	// Start closed the parent's write end, so this reads to EOF when the
	// child exits.
	extra, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := waitDone(t, p); err != nil {
		t.Fatal(err)
	}
	if string(extra) != "extra\n" || out.String() != "hello\n" {
		t.Errorf("fd 3 = %q, stdout = %q", extra, out.String())
	}
}

func TestWriteAfterExitFails(t *testing.T) {
	p, err := Start(t.Context(), Config{Path: "true", Stdin: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := waitDone(t, p); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Stdin().Write([]byte("x")); err == nil {
		t.Error("write to an exited child's stdin succeeded")
	}
}

func TestStartMissingBinary(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = Start(t.Context(), Config{Path: "/nonexistent/ffmpeg", ExtraFiles: []*os.File{w}})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/ffmpeg") || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want a not-exist error naming the path", err)
	}
	// The extra file was closed even though the start failed.
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("ExtraFiles were not closed on failure")
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startWithChild starts a shell that runs a background sleep and reports
// its pid on fd 3, and returns the process and the sleep's pid.
func startWithChild(t *testing.T, ctx context.Context, script string, grace time.Duration) (*Process, int) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := Start(ctx, Config{Path: "/bin/sh", Args: []string{"-c", script}, ExtraFiles: []*os.File{w}, Grace: grace})
	if err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 32)
	n, err := r.Read(line)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(line[:n])))
	if err != nil {
		t.Fatalf("child pid %q: %v", line[:n], err)
	}
	return p, pid
}

func TestStopKillsGroup(t *testing.T) {
	tests := []struct {
		name       string
		script     string
		wantSignal string
	}{
		// Both the shell and its child die on SIGTERM.
		{name: "term", script: "sleep 100 & echo $! >&3; exec 3>&-; wait", wantSignal: "SIGTERM"},
		// Both ignore SIGTERM: Stop escalates to SIGKILL after the grace.
		{name: "kill", script: "trap '' TERM; sleep 100 & echo $! >&3; exec 3>&-; wait", wantSignal: "SIGKILL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, child := startWithChild(t, t.Context(), tt.script, 300*time.Millisecond)
			if !alive(child) {
				t.Fatalf("child %d not running before Stop", child)
			}
			start := time.Now()
			err := p.Stop()
			var ee *ExitError
			if !errors.As(err, &ee) || ee.Signal != tt.wantSignal {
				t.Fatalf("Stop() = %v, want killed by %s", err, tt.wantSignal)
			}
			if tt.wantSignal == "SIGKILL" && time.Since(start) < 300*time.Millisecond {
				t.Error("SIGKILL sent before the grace period ended")
			}
			if !p.Stopped() {
				t.Error("Stopped() = false after Stop")
			}
			waitGone(t, child)
			if err2 := p.Stop(); err2 != err {
				t.Errorf("second Stop() = %v, want %v", err2, err)
			}
		})
	}
}

func TestOrphansKilledWhenLeaderExits(t *testing.T) {
	p, child := startWithChild(t, t.Context(), "sleep 100 2>/dev/null & echo $! >&3; exit 0", time.Second)
	if err := waitDone(t, p); err != nil {
		t.Fatal(err)
	}
	waitGone(t, child)
}

func TestContextCancelStops(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	p, child := startWithChild(t, ctx, "sleep 100 & echo $! >&3; exec 3>&-; wait", time.Second)
	cancel()
	err := waitDone(t, p)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Signal != "SIGTERM" {
		t.Fatalf("err = %v, want killed by SIGTERM", err)
	}
	waitGone(t, child)
	if !p.Stopped() {
		t.Error("Stopped() = false after context cancel")
	}
}

func TestOwnProcessGroup(t *testing.T) {
	p, err := Start(t.Context(), Config{Path: "sleep", Args: []string{"10"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	pgid, err := syscall.Getpgid(p.Pid())
	if err != nil {
		t.Fatal(err)
	}
	if pgid != p.Pid() || pgid == syscall.Getpgrp() {
		t.Errorf("pgid = %d, pid = %d, parent group %d: want the child to lead its own group", pgid, p.Pid(), syscall.Getpgrp())
	}
}
