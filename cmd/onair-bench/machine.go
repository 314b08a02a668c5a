package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// machineReport returns the Markdown header: when, where, with what.
func machineReport(ctx context.Context, onair string, args []string) string {
	t := newTable("what", "value")
	t.add("date", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	t.add("command", "`"+strings.TrimSpace("go run ./cmd/onair-bench "+strings.Join(args, " "))+"`")
	t.add("CPU", fmt.Sprintf("%d × %s", runtime.NumCPU(), cpuModel()))
	t.add("OS", osName())
	t.add("Go", runtime.Version())
	t.add("ffmpeg", firstLine(ctx, "ffmpeg", "-version"))
	t.add("nginx", firstLine(ctx, "nginx", "-v"))
	t.add("wrk", firstLine(ctx, "wrk", "-v"))
	t.add("node", firstLine(ctx, "node", "--version"))
	t.add("onair", firstLine(ctx, onair, "version"))
	t.add("load average at start", loadAvg())
	return "# onair-bench\n\n" + t.markdown() + "\n"
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func osName() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return runtime.GOOS
	}
	name := runtime.GOOS
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
			name = strings.Trim(v, `"`)
		}
	}
	if v, err := os.ReadFile("/etc/debian_version"); err == nil {
		name += " (" + strings.TrimSpace(string(v)) + ")"
	}
	return name
}

// firstLine runs a command briefly and returns the first line it printed
// on stdout or stderr (nginx -v prints on stderr, wrk -v exits 1).
func firstLine(ctx context.Context, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run()
	line, _, _ := strings.Cut(strings.TrimSpace(out.String()), "\n")
	if line == "" {
		return "not found"
	}
	return line
}

// loadAvg returns the 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
