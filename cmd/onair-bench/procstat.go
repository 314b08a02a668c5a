package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// procStat is the part of /proc/PID/stat the bench uses (proc(5)).
type procStat struct {
	PID   int
	Comm  string // executable name, at most 15 bytes
	State byte
	PPID  int
	// UTime and STime are the CPU time spent in user and kernel mode, in
	// clock ticks (sysconf(_SC_CLK_TCK)), summed over all threads. They do
	// not include children (that is cutime/cstime, after wait).
	UTime, STime uint64
	// StartTime is when the process started, in clock ticks after boot:
	// with PID it identifies one process even if the PID is reused.
	StartTime uint64
}

// CPU returns UTime+STime in clock ticks.
func (s procStat) CPU() uint64 { return s.UTime + s.STime }

// errNoProcess reports a PID that does not exist (any more).
var errNoProcess = errors.New("no such process")

// parseProcStat parses the contents of /proc/PID/stat. The comm field is
// in parentheses and may itself contain spaces and parentheses, so the
// fields are counted from the last ')'.
func parseProcStat(b []byte) (procStat, error) {
	s := string(b)
	open := strings.IndexByte(s, '(')
	closing := strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return procStat{}, errors.New("parse /proc stat: no (comm)")
	}
	pid, err := strconv.Atoi(strings.TrimSpace(s[:open]))
	if err != nil {
		return procStat{}, fmt.Errorf("parse /proc stat pid: %w", err)
	}
	// rest starts at field 3 (state).
	rest := strings.Fields(s[closing+1:])
	// Fields (1-based, proc(5)): 3 state, 4 ppid, 14 utime, 15 stime,
	// 22 starttime; rest[i] is field i+3.
	if len(rest) < 20 {
		return procStat{}, fmt.Errorf("parse /proc stat: %d fields after comm, want at least 20", len(rest))
	}
	st := procStat{PID: pid, Comm: s[open+1 : closing]}
	if len(rest[0]) != 1 {
		return procStat{}, fmt.Errorf("parse /proc stat: bad state %q", rest[0])
	}
	st.State = rest[0][0]
	if st.PPID, err = strconv.Atoi(rest[1]); err != nil {
		return procStat{}, fmt.Errorf("parse /proc stat ppid: %w", err)
	}
	if st.UTime, err = strconv.ParseUint(rest[11], 10, 64); err != nil {
		return procStat{}, fmt.Errorf("parse /proc stat utime: %w", err)
	}
	if st.STime, err = strconv.ParseUint(rest[12], 10, 64); err != nil {
		return procStat{}, fmt.Errorf("parse /proc stat stime: %w", err)
	}
	if st.StartTime, err = strconv.ParseUint(rest[19], 10, 64); err != nil {
		return procStat{}, fmt.Errorf("parse /proc stat starttime: %w", err)
	}
	return st, nil
}

// readProcStat reads /proc/PID/stat; errNoProcess if the process is gone.
func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, errors.ErrUnsupported) {
			return procStat{}, fmt.Errorf("pid %d: %w", pid, errNoProcess)
		}
		return procStat{}, fmt.Errorf("read stat of pid %d: %w", pid, err)
	}
	st, err := parseProcStat(b)
	if err != nil {
		return procStat{}, fmt.Errorf("pid %d: %w", pid, err)
	}
	if st.State == 'Z' || st.State == 'X' {
		return st, fmt.Errorf("pid %d is a zombie: %w", pid, errNoProcess)
	}
	return st, nil
}

// allProcs returns the stat of every process that could be read.
func allProcs() ([]procStat, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list /proc: %w", err)
	}
	var out []procStat
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readProcStat(pid); err == nil {
			out = append(out, st)
		}
	}
	return out, nil
}

// children returns the live processes whose parent is pid.
func children(pid int) ([]procStat, error) {
	all, err := allProcs()
	if err != nil {
		return nil, err
	}
	var out []procStat
	for _, st := range all {
		if st.PPID == pid {
			out = append(out, st)
		}
	}
	return out, nil
}

// descendants returns every live process below pid (children, their
// children, ...).
func descendants(pid int) []procStat {
	all, err := allProcs()
	if err != nil {
		return nil
	}
	byParent := map[int][]procStat{}
	for _, st := range all {
		byParent[st.PPID] = append(byParent[st.PPID], st)
	}
	var out []procStat
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range byParent[p] {
			out = append(out, c)
			queue = append(queue, c.PID)
		}
	}
	return out
}

// clockTicks returns sysconf(_SC_CLK_TCK) as `getconf CLK_TCK` prints it,
// or 100 (the value on every Linux architecture Go supports) if getconf
// fails.
func clockTicks() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return 100
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || n <= 0 {
		return 100
	}
	return float64(n)
}
