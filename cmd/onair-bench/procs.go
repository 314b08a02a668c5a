package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procs starts every process of the bench, each in its own process group,
// and stops them all at the end (or on SIGINT). Safe for concurrent use.
type procs struct {
	logDir string

	mu   sync.Mutex
	live map[*proc]struct{}
	seq  int
}

// proc is one started process (and its process group).
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	log     *os.File
	started time.Time
	done    chan struct{} // closed when Wait returned
	waitErr error         // set before done is closed
	r       *procs
}

func newProcs(logDir string) *procs {
	return &procs{logDir: logDir, live: map[*proc]struct{}{}}
}

// startOpts are optional settings of one process.
type startOpts struct {
	Dir    string    // working directory
	Stdout io.Writer // default: the log file
}

// start runs argv (argv[0] looked up in PATH) in a new process group with
// stdout and stderr to a log file named after name.
func (r *procs) start(name string, argv []string, o startOpts) (*proc, error) {
	if len(argv) == 0 {
		return nil, errors.New("start: empty argv")
	}
	r.mu.Lock()
	r.seq++
	seq := r.seq
	r.mu.Unlock()
	logPath := filepath.Join(r.logDir, fmt.Sprintf("%02d-%s.log", seq, name))
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: log file: %w", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = o.Dir
	cmd.Stdout, cmd.Stderr = lf, lf
	if o.Stdout != nil {
		cmd.Stdout = o.Stdout
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A grandchild in another process group (Chromium under node) may
	// keep an output pipe open after the child exits: do not let Wait
	// block on it for long.
	cmd.WaitDelay = 5 * time.Second
	p := &proc{name: name, cmd: cmd, logPath: logPath, log: lf, done: make(chan struct{}), r: r}
	fmt.Fprintf(lf, "# %s\n", shellQuote(argv))
	if err := cmd.Start(); err != nil {
		_ = lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p.started = time.Now()
	r.mu.Lock()
	r.live[p] = struct{}{}
	r.mu.Unlock()
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// pid returns the process id (also its process group id).
func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to exit or ctx to end.
func (p *proc) wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.waitErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after grace; then
// kills any descendant that left the group and is still alive (an onair
// transcoder runs in its own group). It returns the process's exit error
// (nil for a clean exit, including one caused by the SIGTERM).
func (p *proc) stop(grace time.Duration) error {
	defer p.forget()
	if p.exited() {
		return nil
	}
	desc := descendants(p.pid())
	_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	var err error
	select {
	case <-p.done:
	case <-t.C:
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
		<-p.done
		err = fmt.Errorf("%s did not exit within %v of SIGTERM; killed", p.name, grace)
	}
	// The group is gone; give its members a moment, then kill stragglers
	// that are still the same processes (same start time).
	for _, d := range desc {
		if st, e := readProcStat(d.PID); e == nil && st.StartTime == d.StartTime {
			time.Sleep(200 * time.Millisecond)
			if st, e := readProcStat(d.PID); e == nil && st.StartTime == d.StartTime {
				_ = syscall.Kill(d.PID, syscall.SIGKILL)
			}
		}
	}
	return err
}

func (p *proc) forget() {
	p.r.mu.Lock()
	delete(p.r.live, p)
	p.r.mu.Unlock()
	_ = p.log.Close()
}

// tail returns the last n lines of the process's log.
func (p *proc) tail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// stopAll stops every process still running, concurrently.
func (r *procs) stopAll() {
	r.mu.Lock()
	ps := make([]*proc, 0, len(r.live))
	for p := range r.live {
		ps = append(ps, p)
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() { _ = p.stop(5 * time.Second) })
	}
	wg.Wait()
}

// run starts argv and waits for it to finish (or ctx to end, which stops
// it). A non-zero exit is an error carrying the log's tail.
func (r *procs) run(ctx context.Context, name string, argv []string, o startOpts) error {
	p, err := r.start(name, argv, o)
	if err != nil {
		return err
	}
	if err := p.wait(ctx); err != nil {
		_ = p.stop(3 * time.Second)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: %w\n%s", name, err, p.tail(8))
	}
	p.forget()
	return nil
}

// shellQuote renders argv the way a reader would paste it into a shell.
func shellQuote(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.IndexFunc(a, func(c rune) bool {
			return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:=,@+%", c))
		}) < 0 {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}
