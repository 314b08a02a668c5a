package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// onairServer is one running `onair serve` on fresh loopback ports.
type onairServer struct {
	p       *proc
	base    string // http://127.0.0.1:PORT
	rtmp    string // 127.0.0.1:PORT
	argv    []string
	started time.Time // just before exec
	http    *http.Client
}

// channelInfo is the part of the API's channel JSON the bench uses.
type channelInfo struct {
	Name   string `json:"name"`
	State  string `json:"state"`
	Ingest struct {
		RTMPURL string `json:"rtmp_url"`
	} `json:"ingest"`
	Transcoder *struct {
		State    string `json:"state"`
		Restarts int    `json:"restarts"`
	} `json:"transcoder"`
}

// freePort returns a port that was free on 127.0.0.1 a moment ago.
func freePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("free udp port: %w", err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free tcp port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startOnair runs `onair serve` with dataDir and extra flags on loopback
// ports. It does not wait for readiness.
func startOnair(r *procs, bin, name, dataDir string, extra ...string) (*onairServer, error) {
	hp, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	rp, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	sp, err := freePort("udp")
	if err != nil {
		return nil, err
	}
	s := &onairServer{
		base: fmt.Sprintf("http://127.0.0.1:%d", hp),
		rtmp: fmt.Sprintf("127.0.0.1:%d", rp),
		http: &http.Client{Timeout: 10 * time.Second},
	}
	s.argv = append([]string{bin, "serve", "--data", dataDir,
		"--http", strings.TrimPrefix(s.base, "http://"), "--rtmp", s.rtmp, "--srt", fmt.Sprintf("127.0.0.1:%d", sp)}, extra...)
	s.started = time.Now()
	if s.p, err = r.start(name, s.argv, startOpts{}); err != nil {
		return nil, err
	}
	return s, nil
}

// stop stops onair (SIGTERM, then SIGKILL after 15 s).
func (s *onairServer) stop() error { return s.p.stop(15 * time.Second) }

// waitReady polls /readyz until it answers 200, onair exits or timeout.
func (s *onairServer) waitReady(ctx context.Context, timeout time.Duration) error {
	return poll(ctx, timeout, 20*time.Millisecond, "onair /readyz", func() (bool, error) {
		if s.p.exited() {
			return false, fmt.Errorf("onair exited early:\n%s", s.p.tail(10))
		}
		code, _, _ := s.get(ctx, "/readyz")
		return code == http.StatusOK, nil
	})
}

// get fetches base+path and returns status, headers and body (status 0
// on a transport error).
func (s *onairServer) get(ctx context.Context, path string) (int, http.Header, []byte) {
	return httpGet(ctx, s.http, s.base+path)
}

func httpGet(ctx context.Context, c *http.Client, url string) (int, http.Header, []byte) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, nil
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil
	}
	return resp.StatusCode, resp.Header, b
}

// createChannel creates a channel through the API.
func (s *onairServer) createChannel(ctx context.Context, name string, lowLatency bool) (channelInfo, error) {
	body := fmt.Sprintf(`{"name":%q,"low_latency":%v}`, name, lowLatency)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/api/v1/channels", strings.NewReader(body))
	if err != nil {
		return channelInfo{}, fmt.Errorf("create channel %s: %w", name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return channelInfo{}, fmt.Errorf("create channel %s: %w", name, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return channelInfo{}, fmt.Errorf("create channel %s: HTTP %d: %s", name, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	var c channelInfo
	if err := json.Unmarshal(b, &c); err != nil {
		return channelInfo{}, fmt.Errorf("create channel %s: decode: %w", name, err)
	}
	return c, nil
}

// channel fetches one channel's state through the API.
func (s *onairServer) channel(ctx context.Context, name string) (channelInfo, error) {
	code, _, b := s.get(ctx, "/api/v1/channels/"+name)
	if code != http.StatusOK {
		return channelInfo{}, fmt.Errorf("get channel %s: HTTP %d", name, code)
	}
	var c channelInfo
	if err := json.Unmarshal(b, &c); err != nil {
		return channelInfo{}, fmt.Errorf("get channel %s: decode: %w", name, err)
	}
	return c, nil
}

// metrics fetches /metrics.
func (s *onairServer) metrics(ctx context.Context) ([]byte, error) {
	code, _, b := s.get(ctx, "/metrics")
	if code != http.StatusOK {
		return nil, fmt.Errorf("get /metrics: HTTP %d", code)
	}
	return b, nil
}

// poll calls cond every interval until it returns true or an error, ctx
// ends, or timeout passes.
func poll(ctx context.Context, timeout, interval time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", timeout, what)
		}
		if err := sleep(ctx, interval); err != nil {
			return err
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
