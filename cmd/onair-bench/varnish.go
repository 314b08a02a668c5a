package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// varnishServer is varnishd in the foreground caching one backend on a
// loopback port, with its working directory (shared memory log, VCL
// compiler output) under its own directory.
type varnishServer struct {
	p    *proc
	base string // http://127.0.0.1:PORT
	argv []string
}

// startVarnish runs varnishd with the builtin VCL in front of backend
// (host:port) on a free loopback port: malloc storage of 256 MiB, no
// management CLI listener (-T none) and no privilege separation jail
// (-j none, so it runs as the bench's user and can use dir).
func startVarnish(ctx context.Context, r *procs, dir, backend string) (*varnishServer, error) {
	port, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("varnish dir: %w", err)
	}
	v := &varnishServer{base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	v.argv = []string{"varnishd", "-F", "-j", "none", "-n", dir, "-a", strings.TrimPrefix(v.base, "http://"),
		"-b", backend, "-T", "none", "-s", "malloc,256m"}
	if v.p, err = r.start("varnishd", v.argv, startOpts{}); err != nil {
		return nil, err
	}
	c := &http.Client{Timeout: 2 * time.Second}
	err = poll(ctx, 20*time.Second, 50*time.Millisecond, "varnishd", func() (bool, error) {
		if v.p.exited() {
			return false, fmt.Errorf("varnishd exited:\n%s", v.p.tail(10))
		}
		code, _, _ := httpGet(ctx, c, v.base+"/")
		return code != 0, nil
	})
	if err != nil {
		_ = v.p.stop(5 * time.Second)
		return nil, err
	}
	return v, nil
}

// stop stops varnishd (SIGTERM stops the manager, which stops its child).
func (v *varnishServer) stop() error { return v.p.stop(10 * time.Second) }

// varnishHit reports whether an X-Varnish response header marks a cache
// hit: Varnish sends the request's transaction id alone on a miss or a
// pass, and the request's id followed by the id of the transaction that
// stored the object on a hit ("32770 3").
func varnishHit(xVarnish string) bool {
	f := strings.Fields(xVarnish)
	if len(f) != 2 {
		return false
	}
	for _, s := range f {
		if strings.TrimLeft(s, "0123456789") != "" {
			return false
		}
	}
	return true
}
