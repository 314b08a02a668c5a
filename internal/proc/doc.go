// Package proc supervises subprocesses: it starts a program from an argv
// slice (never through a shell), in its own process group, with an optional
// standard-input pipe and extra inherited files, captures the tail of its
// standard error for error reports, and stops the whole group with SIGTERM
// then SIGKILL after a grace period. Backoff spaces out restarts.
//
// proc imports no internal package.
//
// Concurrency: every Process method is safe for concurrent use. A Process
// owns two goroutines (stderr reader and waiter); both have ended when
// Done is closed, which happens when the child exits (at most 2 s later
// should a grandchild keep standard error open). OnStderr is called from
// one goroutine, one line at a time. Backoff is not safe for concurrent
// use; it reads the clock only through the time package, so it runs under
// testing/synctest.
package proc
