package app

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// keepAlive is one raw HTTP/1.1 client connection.
type keepAlive struct {
	c net.Conn
	r *bufio.Reader
}

func dialKeepAlive(t *testing.T, addr string) *keepAlive {
	t.Helper()
	k, err := tryDial(t, addr)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// tryDial dials addr; a refused connection may fail here already (the
// reset can arrive before the dial returns).
func tryDial(t *testing.T, addr string) (*keepAlive, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return &keepAlive{c: c, r: bufio.NewReader(c)}, nil
}

// dialAndGet opens a connection and sends one request on it.
func dialAndGet(t *testing.T, addr string) (*keepAlive, int, error) {
	k, err := tryDial(t, addr)
	if err != nil {
		return nil, 0, err
	}
	code, err := k.get("/")
	return k, code, err
}

// get sends one request and returns the status, or an error when the
// connection was refused or broke.
func (k *keepAlive) get(path string) (int, error) {
	k.c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := fmt.Fprintf(k.c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(k.r, nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func TestConnLimit(t *testing.T) {
	reg := prometheus.NewRegistry()
	l, err := newConnLimiter(2, slog.New(slog.DiscardHandler), reg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})}
	go srv.Serve(l.Listener(ln))
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()

	first, second := dialKeepAlive(t, addr), dialKeepAlive(t, addr)
	for i, k := range []*keepAlive{first, second} {
		if code, err := k.get("/"); code != 200 {
			t.Fatalf("connection %d within the limit: %d %v", i+1, code, err)
		}
	}
	start := time.Now()
	if _, code, err := dialAndGet(t, addr); err == nil {
		t.Fatalf("third connection answered %d beyond a limit of 2", code)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusal took %v; want it at once", d)
	}
	// The client can see the reset before the server has counted it.
	for deadline := time.Now().Add(2 * time.Second); testutil.ToFloat64(l.refused) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if n := testutil.ToFloat64(l.refused); n != 1 {
		t.Errorf("refused counter %v, want 1", n)
	}
	// The first two keep working.
	for i, k := range []*keepAlive{first, second} {
		if code, err := k.get("/"); code != 200 {
			t.Errorf("connection %d after a refusal: %d %v", i+1, code, err)
		}
	}
	// A closed connection frees its slot; a raised limit applies at once.
	first.c.Close()
	waitUntil(t, "a freed slot", func() bool {
		_, code, _ := dialAndGet(t, addr)
		return code == 200
	})
	l.SetMax(3)
	if _, code, err := dialAndGet(t, addr); code != 200 {
		t.Errorf("after raising the limit: %d %v", code, err)
	}
	if n := testutil.ToFloat64(l.refused); n < 1 {
		t.Errorf("refused counter %v", n)
	}
	got, err := testutil.GatherAndCount(reg, "onair_http_connections", "onair_http_connections_max", "onair_http_connections_refused_total")
	if err != nil || got != 3 {
		t.Errorf("metrics: %d series, %v", got, err)
	}
}

// waitUntil polls cond for up to 5 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
