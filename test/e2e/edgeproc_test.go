package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// edgeProc is one running `onair edge`.
type edgeProc struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan error
}

// startEdgeProc runs `onair edge` with args and waits until readyURL
// (its /readyz) answers 200.
func startEdgeProc(t *testing.T, readyURL string, client *http.Client, args ...string) *edgeProc {
	t.Helper()
	p := &edgeProc{logs: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(binPath, append([]string{"edge"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	p.cmd.Env = os.Environ()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-p.done:
			if err != nil {
				t.Errorf("onair edge did not exit cleanly on SIGTERM: %v", err)
			}
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			t.Error("onair edge did not stop within 10 s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("edge logs:\n%s", tail(p.logs.String(), 40))
		}
	})
	waitFor(t, 10*time.Second, "onair edge "+readyURL, func() bool {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("onair edge exited early: %v\n%s", err, p.logs.String())
		default:
		}
		resp, err := client.Get(readyURL)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return p
}

// signal sends sig and waits until the log has one more line containing
// want than before.
func (p *edgeProc) signal(t *testing.T, sig syscall.Signal, want string) {
	t.Helper()
	before := strings.Count(p.logs.String(), want)
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, fmt.Sprintf("%q in the edge's log", want), func() bool {
		return strings.Count(p.logs.String(), want) > before
	})
}

// fakeOrigin answers every path with "name path", cacheable for a minute,
// and counts requests.
type fakeOrigin struct {
	*httptest.Server
	requests atomic.Int64
}

func newFakeOrigin(t *testing.T, name string) *fakeOrigin {
	t.Helper()
	o := &fakeOrigin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.requests.Add(1)
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Header().Set("Content-Type", "video/iso.segment")
		io.WriteString(w, name+" "+r.URL.Path)
	}))
	t.Cleanup(o.Close)
	return o
}

// countingClient is an HTTP/1.1 client with at most one connection, that
// counts the connections it dials.
type countingClient struct {
	*http.Client
	dials atomic.Int64
}

func newCountingClient(t *testing.T) *countingClient {
	c := &countingClient{}
	tr := &http.Transport{
		MaxConnsPerHost: 1,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c.dials.Add(1)
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	c.Client = &http.Client{Transport: tr, Timeout: 15 * time.Second}
	return c
}

// fetch GETs url and returns status, X-Cache, protocol and body; it fails
// the test on a transport error.
func fetch(t *testing.T, c *http.Client, url string) (code int, xcache, proto, body string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read: %v", url, err)
	}
	return resp.StatusCode, resp.Header.Get("X-Cache"), resp.Proto, string(b)
}

// h2cClient speaks cleartext HTTP/2 with prior knowledge only.
func h2cClient(t *testing.T) *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &p}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

// tlsClient trusts certFile and takes HTTP/2 when the server offers it.
func tlsClient(t *testing.T, certFile string) *http.Client {
	t.Helper()
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("no certificate in " + certFile)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

// rawConn is one raw HTTP/1.1 keep-alive connection.
type rawConn struct {
	c net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{c: c, r: bufio.NewReader(c)}
}

// get sends one request on the connection; an error means the server
// refused or closed it.
func (rc *rawConn) get(path string) (int, error) {
	rc.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(rc.c, "GET %s HTTP/1.1\r\nHost: onair\r\n\r\n", path); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(rc.r, nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}
