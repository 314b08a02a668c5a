// Package proc supervises subprocesses: it starts a program from an argv
// slice (never through a shell), in its own process group, with an optional
// standard-input pipe and extra inherited files, captures the tail of its
// standard error for error reports, and stops the whole group with SIGTERM
// then SIGKILL after a grace period. Backoff spaces out restarts.
//
// proc imports no internal package.
//
// Concurrency: every Process method is safe for concurrent use. A Process
// owns two goroutines (stderr reader and waiter) that end when the child
// exits. OnStderr is called from one goroutine, one line at a time. Backoff
// is not safe for concurrent use; it reads the clock only through the time
// package, so it runs under testing/synctest.
package proc
