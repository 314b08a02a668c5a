package proc

import (
	"fmt"
	"strings"
	"syscall"
)

// ExitError reports a child that ended other than by exiting with status 0.
// It carries what a person needs to see why: the exit code or signal and
// the last lines the program wrote to standard error.
type ExitError struct {
	Code   int    // exit status, -1 when killed by a signal
	Signal string // e.g. "SIGKILL"; empty when the child exited
	Tail   string // last lines of standard error, possibly empty
}

// Error returns "exit status N" or "killed by SIGNAL", followed by the
// stderr tail when there is one.
func (e *ExitError) Error() string {
	var b strings.Builder
	if e.Signal != "" {
		fmt.Fprintf(&b, "killed by %s", e.Signal)
	} else {
		fmt.Fprintf(&b, "exit status %d", e.Code)
	}
	if t := strings.TrimSpace(e.Tail); t != "" {
		b.WriteString("; stderr tail:\n")
		b.WriteString(t)
	}
	return b.String()
}

func signalName(s syscall.Signal) string {
	names := map[syscall.Signal]string{
		syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT",
		syscall.SIGILL: "SIGILL", syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS",
		syscall.SIGFPE: "SIGFPE", syscall.SIGKILL: "SIGKILL", syscall.SIGSEGV: "SIGSEGV",
		syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM",
		syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2", syscall.SIGXCPU: "SIGXCPU",
	}
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("signal %d (%s)", int(s), s.String())
}
