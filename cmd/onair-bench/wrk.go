package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what the bench reads from wrk's --latency report.
type wrkResult struct {
	Requests    int64         // completed requests
	RPS         float64       // "Requests/sec"
	TransferBps float64       // "Transfer/sec", bytes per second
	P50, P99    time.Duration // from "Latency Distribution"
	Non2xx      int64         // "Non-2xx or 3xx responses"
	SocketErrs  int64         // connect+read+write+timeout
}

var (
	wrkLatencyRe  = regexp.MustCompile(`^\s*(50|75|90|99)%\s+([0-9.]+)(us|ms|s|m|h)\s*$`)
	wrkRequestsRe = regexp.MustCompile(`^\s*(\d+) requests in `)
	wrkSocketRe   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk parses the text wrk 4 prints with --latency. Requests/sec and
// the 50% and 99% lines are required.
func parseWrk(out []byte) (wrkResult, error) {
	var r wrkResult
	var haveRPS, have50, have99 bool
	for _, line := range strings.Split(string(out), "\n") {
		if m := wrkLatencyRe.FindStringSubmatch(line); m != nil {
			d, err := wrkDuration(m[2], m[3])
			if err != nil {
				return wrkResult{}, err
			}
			switch m[1] {
			case "50":
				r.P50, have50 = d, true
			case "99":
				r.P99, have99 = d, true
			}
			continue
		}
		if m := wrkRequestsRe.FindStringSubmatch(line); m != nil {
			r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
			continue
		}
		if m := wrkSocketRe.FindStringSubmatch(line); m != nil {
			for _, s := range m[1:] {
				n, _ := strconv.ParseInt(s, 10, 64)
				r.SocketErrs += n
			}
			continue
		}
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Requests/sec":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return wrkResult{}, fmt.Errorf("parse wrk Requests/sec %q: %w", v, err)
			}
			r.RPS, haveRPS = f, true
		case "Transfer/sec":
			b, err := wrkBytes(v)
			if err != nil {
				return wrkResult{}, err
			}
			r.TransferBps = b
		case "Non-2xx or 3xx responses":
			r.Non2xx, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if !haveRPS || !have50 || !have99 {
		return wrkResult{}, errors.New("parse wrk: no Requests/sec or latency distribution in the output (was --latency given?)")
	}
	return r, nil
}

// wrkDuration converts wrk's "1.23ms" style numbers.
func wrkDuration(num, unit string) (time.Duration, error) {
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("parse wrk duration %s%s: %w", num, unit, err)
	}
	mult := map[string]float64{"us": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}[unit]
	return time.Duration(f * mult), nil
}

// wrkBytes converts wrk's "12.34MB" style sizes (binary units).
func wrkBytes(s string) (float64, error) {
	i := strings.IndexFunc(s, func(c rune) bool { return c != '.' && (c < '0' || c > '9') })
	if i <= 0 {
		return 0, fmt.Errorf("parse wrk size %q", s)
	}
	f, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, fmt.Errorf("parse wrk size %q: %w", s, err)
	}
	mult, ok := map[string]float64{"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}[s[i:]]
	if !ok {
		return 0, fmt.Errorf("parse wrk size %q: unknown unit", s)
	}
	return f * mult, nil
}

// wrkArgs returns the wrk command line the bench uses, with extra
// request headers ("Name: value").
func wrkArgs(url string, d time.Duration, headers ...string) []string {
	argv := []string{"wrk", "-t2", "-c64", fmt.Sprintf("-d%ds", int(d.Seconds())), "--latency"}
	for _, h := range headers {
		argv = append(argv, "-H", h)
	}
	return append(argv, url)
}

// runWrk runs wrk against url for d, sending headers with each request.
func runWrk(ctx context.Context, r *procs, url string, d time.Duration, headers ...string) (wrkResult, error) {
	var out bytes.Buffer
	p, err := r.start("wrk", wrkArgs(url, d, headers...), startOpts{Stdout: &out})
	if err != nil {
		return wrkResult{}, err
	}
	wctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	if err := p.wait(wctx); err != nil {
		_ = p.stop(3 * time.Second)
		return wrkResult{}, fmt.Errorf("wrk %s: %w\n%s", url, err, p.tail(5))
	}
	p.forget()
	res, err := parseWrk(out.Bytes())
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %w\n%s", url, err, out.String())
	}
	return res, nil
}
