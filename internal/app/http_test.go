package app

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCanonicalPaths(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := canonicalPaths(ok)
	tests := []struct {
		path string
		want int
	}{
		{"/live/a/master.m3u8", http.StatusTeapot},
		{"/", http.StatusTeapot},
		{"/channels/", http.StatusTeapot},
		{"/live/../etc/passwd", http.StatusBadRequest},
		{"/live/./a", http.StatusBadRequest},
		{"/live//a", http.StatusBadRequest},
		{"/live/a/..", http.StatusBadRequest},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "http://x/", nil)
		r.URL.Path = tt.path
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("%s: %d, want %d", tt.path, w.Code, tt.want)
		}
	}
}

// A request that outlives the grace period (an LL-HLS blocking reload, say)
// is cut and shutdown still succeeds.
func TestShutdownCutsLongRequests(t *testing.T) {
	started := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	}))
	srv.Start()
	defer srv.Close()
	go http.Get(srv.URL)
	<-started
	start := time.Now()
	if err := shutdown(srv.Config, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > shutdownGrace+2*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
}

// The public server speaks HTTP/1.1, h2c and, with a certificate, HTTP/2
// over TLS.
func TestPublicServerProtocols(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	cfg := testEdgeSection()
	cfg.CertFile, cfg.KeyFile, cfg.TLSListen = certFile, keyFile, "127.0.0.1:0"
	pub, err := listenPublic("127.0.0.1:0", cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := publicServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}), cfg, pub.certs, slog.New(slog.DiscardHandler))
	runServer(t, pub, srv)
	plain, secure := pub.addrs()
	tests := []struct {
		name, url string
		client    *http.Client
		want      string
	}{
		{"http/1.1", "http://" + plain.String() + "/", http.DefaultClient, "HTTP/1.1"},
		{"h2c", "http://" + plain.String() + "/", h2cClient(t), "HTTP/2.0"},
		{"h2 over tls", "https://" + secure.String() + "/", tlsClient(t, certFile), "HTTP/2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.client.Get(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.Proto != tt.want || string(b) != tt.want {
				t.Errorf("proto %s, server saw %q, want %s", resp.Proto, b, tt.want)
			}
		})
	}
	if _, err := listenPublic("", testEdgeSection(), slog.New(slog.DiscardHandler), nil); err == nil || !strings.Contains(err.Error(), "nothing to listen on") {
		t.Errorf("no address and no certificate: %v", err)
	}
}
