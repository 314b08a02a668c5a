package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Defaults for Config fields left zero.
const (
	DefaultTailLines = 40
	DefaultTailBytes = 8 << 10
	DefaultGrace     = 5 * time.Second
	// maxLine bounds one stderr line handed to OnStderr; the rest of an
	// over-long line is discarded.
	maxLine = 4 << 10
	// stderrLinger bounds how long the waiter waits, after the child has
	// exited, for a grandchild still holding standard error open.
	stderrLinger = 2 * time.Second
)

// Config describes a child process.
type Config struct {
	// Path is the program; a name without a slash is looked up in PATH.
	Path string
	// Args are the arguments after the program name. They are passed as
	// they are: no shell is involved.
	Args []string
	// Env is the environment; nil inherits the parent's.
	Env []string
	// Dir is the working directory; empty means the parent's.
	Dir string
	// Stdin creates a pipe to the child's standard input (Process.Stdin).
	// Without it the child reads /dev/null.
	Stdin bool
	// Stdout receives the child's standard output; nil discards it.
	Stdout io.Writer
	// ExtraFiles become file descriptors 3, 4, ... in the child. Start
	// closes them in the parent once the child has them (or on failure),
	// so the child holds the only copies: a pipe's reader sees EOF when
	// the child exits.
	ExtraFiles []*os.File
	// OnStderr, if set, is called with each line the child writes to
	// standard error ('\n' or '\r' terminated, terminator removed, empty
	// lines skipped, at most 4 KiB).
	OnStderr func(line string)
	// TailLines and TailBytes bound the stderr tail kept for ExitError
	// (defaults 40 lines, 8 KiB).
	TailLines, TailBytes int
	// Grace is the time between SIGTERM and SIGKILL in Stop (default 5 s).
	Grace time.Duration
}

// Process is a running (or finished) child. Create it with Start.
type Process struct {
	cfg     Config
	cmd     *exec.Cmd
	stdin   *os.File
	started time.Time
	done    chan struct{}
	stopped chan struct{} // closed by the first Stop
	stopMu  sync.Once
	// unhook removes the stop-on-cancel hook once the child has exited.
	unhook func() bool

	mu   sync.Mutex
	tail *tail
	err  error // valid once done is closed
}

// Start starts the child in its own process group. When ctx ends, the
// child is stopped as by Stop. Start does not block on the child.
func Start(ctx context.Context, cfg Config) (*Process, error) {
	defer closeAll(cfg.ExtraFiles)
	if cfg.TailLines <= 0 {
		cfg.TailLines = DefaultTailLines
	}
	if cfg.TailBytes <= 0 {
		cfg.TailBytes = DefaultTailBytes
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	path, err := exec.LookPath(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", cfg.Path, err)
	}
	cmd := exec.Command(path, cfg.Args...)
	cmd.Env = cfg.Env
	cmd.Dir = cfg.Dir
	cmd.Stdout = cfg.Stdout
	cmd.ExtraFiles = cfg.ExtraFiles
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	var stdinR, stdinW *os.File
	if cfg.Stdin {
		if stdinR, stdinW, err = os.Pipe(); err != nil {
			return nil, fmt.Errorf("start %s: stdin pipe: %w", cfg.Path, err)
		}
		cmd.Stdin = stdinR
	}
	// stderr is an *os.File so exec starts no copying goroutine and Wait
	// returns when the child exits, even if a grandchild keeps it open.
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll([]*os.File{stdinR, stdinW})
		return nil, fmt.Errorf("start %s: stderr pipe: %w", cfg.Path, err)
	}
	cmd.Stderr = errW
	err = cmd.Start()
	closeAll([]*os.File{stdinR, errW})
	if err != nil {
		closeAll([]*os.File{stdinW, errR})
		return nil, fmt.Errorf("start %s: %w", cfg.Path, err)
	}
	p := &Process{
		cfg:     cfg,
		cmd:     cmd,
		stdin:   stdinW,
		started: time.Now(),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
		tail:    newTail(cfg.TailLines, cfg.TailBytes),
	}
	p.unhook = context.AfterFunc(ctx, func() { _ = p.Stop() })
	stderrDone := make(chan struct{})
	go p.readStderr(errR, stderrDone)
	go p.wait(errR, stderrDone)
	return p, nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		if f != nil {
			_ = f.Close()
		}
	}
}

// Pid returns the child's process ID, which is also its process group ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// StartedAt returns when the child was started.
func (p *Process) StartedAt() time.Time { return p.started }

// Stdin returns the write end of the child's standard input, or nil when
// Config.Stdin was false. Close it to signal end of input. Writes after the
// child exited fail with an error (EPIPE), never a signal.
func (p *Process) Stdin() io.WriteCloser {
	if p.stdin == nil {
		return nil
	}
	return p.stdin
}

// Done is closed when the child has exited and its stderr is collected.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err returns nil while the child runs or after it exited with status 0,
// otherwise *ExitError (or a wrapped wait error).
func (p *Process) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Wait blocks until the child exits or ctx ends, and returns Err (or
// ctx.Err()).
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stopped reports whether Stop was called (or the start context ended), so
// a caller can tell an exit it asked for from a crash.
func (p *Process) Stopped() bool {
	select {
	case <-p.stopped:
		return true
	default:
		return false
	}
}

// Tail returns the last lines of standard error seen so far.
func (p *Process) Tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tail.String()
}

// Stop sends SIGTERM to the child's process group, then SIGKILL once the
// grace period has passed, and waits for the child to exit. It returns Err.
// It is safe to call Stop more than once and after the child exited.
func (p *Process) Stop() error {
	p.stopMu.Do(func() { close(p.stopped) })
	select {
	case <-p.done:
		return p.Err()
	default:
	}
	p.signalGroup(syscall.SIGTERM)
	t := time.NewTimer(p.cfg.Grace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.signalGroup(syscall.SIGKILL)
		<-p.done
	}
	return p.Err()
}

func (p *Process) signalGroup(sig syscall.Signal) {
	// A negative pid addresses the process group. ESRCH (already gone) is
	// the only expected failure and means there is nothing left to stop.
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

func (p *Process) wait(errR *os.File, stderrDone <-chan struct{}) {
	werr := p.cmd.Wait()
	if p.stdin != nil {
		// Unblocks a writer stuck on a full pipe; later writes fail.
		_ = p.stdin.Close()
	}
	// The leader is gone; take any orphans of its group with it.
	p.signalGroup(syscall.SIGKILL)
	t := time.NewTimer(stderrLinger)
	select {
	case <-stderrDone:
	case <-t.C:
		_ = errR.Close()
		<-stderrDone
	}
	t.Stop()
	p.mu.Lock()
	p.err = p.exitError(werr)
	p.mu.Unlock()
	close(p.done)
	p.unhook()
}

func (p *Process) exitError(werr error) error {
	if werr == nil {
		return nil
	}
	var ee *exec.ExitError
	if !errors.As(werr, &ee) {
		return fmt.Errorf("wait %s: %w", p.cfg.Path, werr)
	}
	out := &ExitError{Code: ee.ExitCode(), Tail: p.tail.String()}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		out.Code = -1
		out.Signal = signalName(ws.Signal())
	}
	return out
}

// readStderr feeds standard error to a lineSplitter until EOF. It never
// stops reading early, so the child never blocks on a full pipe.
func (p *Process) readStderr(r *os.File, done chan<- struct{}) {
	defer close(done)
	defer r.Close()
	emit := func(s string) {
		p.mu.Lock()
		p.tail.add(s)
		p.mu.Unlock()
		if p.cfg.OnStderr != nil {
			p.cfg.OnStderr(s)
		}
	}
	var ls lineSplitter
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		ls.write(buf[:n], emit)
		if err != nil {
			ls.flush(emit)
			return
		}
	}
}
