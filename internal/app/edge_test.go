package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/sync/errgroup"

	"onair/internal/config"
)

// testEdgeSection is the default edge section on loopback ports.
func testEdgeSection() config.Edge {
	c := config.DefaultEdge()
	c.Listen, c.TLSListen = "127.0.0.1:0", "127.0.0.1:0"
	return c
}

// runServer serves srv on pub until the test ends.
func runServer(t *testing.T, pub *publicListeners, srv *http.Server) {
	t.Helper()
	var g errgroup.Group
	pub.serve(&g, srv, "test")
	t.Cleanup(func() {
		srv.Close()
		if err := g.Wait(); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}

// writeSelfSigned writes a certificate and key for 127.0.0.1 into dir.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "onair test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// h2cClient speaks cleartext HTTP/2 with prior knowledge only.
func h2cClient(t *testing.T) *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &p}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// tlsClient trusts certFile and negotiates HTTP/2 when the server offers it.
func tlsClient(t *testing.T, certFile string) *http.Client {
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// logBuffer is a log sink safe for concurrent writes.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// namedOrigin answers every path with its name, cacheable for a minute.
func namedOrigin(t *testing.T, name string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		io.WriteString(w, name)
	}))
	t.Cleanup(s.Close)
	return s
}

// A SIGHUP-style reload swaps the upstream over a kept-alive connection
// and keeps the cache; a reload that does not load changes nothing.
func TestRunEdgeReload(t *testing.T) {
	a, b := namedOrigin(t, "a"), namedOrigin(t, "b")
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	var (
		mu   sync.Mutex
		next config.Edge
		fail error
	)
	cfg := testEdgeSection()
	cfg.Upstreams = []string{a.URL}
	reload := make(chan os.Signal)
	ready := make(chan EdgeAddrs, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunEdge(ctx, EdgeOptions{
			Config: cfg,
			Reload: reload,
			Load: func() (config.Edge, error) {
				mu.Lock()
				defer mu.Unlock()
				return next, fail
			},
			Ready: func(a EdgeAddrs) { ready <- a },
		}, log)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunEdge: %v", err)
		}
	})
	addrs := <-ready
	if addrs.HTTPS != nil {
		t.Errorf("HTTPS listener %v without a certificate", addrs.HTTPS)
	}
	var conns atomic.Int32
	tr := &http.Transport{MaxConnsPerHost: 1, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conns.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	base := "http://" + addrs.HTTP.String()
	fetch := func(path string) (string, string) {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body), resp.Header.Get("X-Cache")
	}
	// reloadWith applies section (or a load error) and waits for its log line.
	reloadWith := func(section config.Edge, err error, line string) {
		t.Helper()
		mu.Lock()
		next, fail = section, err
		mu.Unlock()
		before := strings.Count(logs.String(), line)
		reload <- syscall.SIGHUP
		waitUntil(t, line, func() bool { return strings.Count(logs.String(), line) > before })
	}

	if body, _ := fetch("/live/c/r/1.m4s"); body != "a" {
		t.Fatalf("before the reload: %q", body)
	}
	moved := cfg
	moved.Upstreams = []string{b.URL}
	reloadWith(moved, nil, "edge configuration reloaded")
	tests := []struct{ path, body, cache string }{
		{"/live/c/r/2.m4s", "b", "MISS"},
		{"/live/c/r/1.m4s", "a", "HIT"},
	}
	for _, tt := range tests {
		if body, cache := fetch(tt.path); body != tt.body || cache != tt.cache {
			t.Errorf("after the reload %s: %q %s, want %q %s", tt.path, body, cache, tt.body, tt.cache)
		}
	}

	reloadWith(config.Edge{}, errors.New("config: edge.upstreams[0]: bad"), "edge reload refused")
	noUpstream := cfg
	noUpstream.Upstreams = nil
	reloadWith(noUpstream, nil, "edge reload refused")
	badCert := moved
	badCert.CertFile, badCert.KeyFile = "/nonexistent.pem", "/nonexistent.key"
	// No TLS listener runs: turning TLS on needs a restart, which a warning
	// says; the rest applies.
	reloadWith(badCert, nil, "only change on restart")
	if body, _ := fetch("/live/c/r/3.m4s"); body != "b" {
		t.Errorf("after refused reloads: %q, want the last applied upstream", body)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d client connections; the reloads should not have dropped the first", n)
	}
	if !strings.Contains(logs.String(), "tls_listen") {
		t.Errorf("turning TLS on by reload is not named as needing a restart:\n%s", logs.String())
	}
}

// serve's built-in edge: the origin is asked once per object, and never
// sees the loopback host it is reached by.
func TestOriginEdge(t *testing.T) {
	var (
		mu    sync.Mutex
		hosts []string
	)
	origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hosts = append(hosts, r.Host)
		mu.Unlock()
		w.Header().Set("Cache-Control", "public, max-age=12")
		fmt.Fprintf(w, "object %s", r.URL.Path)
	})
	cfg := config.Default()
	cfg.Edge.Upstreams = []string{"http://127.0.0.1:1"} // a secondary that is never needed
	reg := prometheus.NewRegistry()
	oe, err := listenOriginEdge(cfg, origin, nil, nil, slog.New(slog.DiscardHandler), reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- oe.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	srv := httptest.NewServer(oe.Handler())
	t.Cleanup(srv.Close)
	for i, want := range []string{"MISS", "HIT", "HIT"} {
		resp, err := http.Get(srv.URL + "/live/c/r/7.m4s")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "object /live/c/r/7.m4s" || resp.Header.Get("X-Cache") != want {
			t.Errorf("request %d: %q X-Cache %s, want %s", i, body, resp.Header.Get("X-Cache"), want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hosts) != 1 || hosts[0] != "" {
		t.Errorf("origin saw requests with hosts %q, want one with none", hosts)
	}
	if n, err := testutil.GatherAndCount(reg, "onair_edge_requests_total"); err != nil || n == 0 {
		t.Errorf("edge metrics not on the registry: %d %v", n, err)
	}
}
