package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// edgeObject is one object cached by the onair edge and Varnish and
// served from disk by nginx.
type edgeObject struct {
	what   string
	path   string
	ctype  string
	body   []byte
	served atomic.Int64 // requests the origin answered for this path
	runs   [3]edgeRun   // by edgeServers index
}

// edgeRun is one wrk run against one server for one object.
type edgeRun struct {
	wrk        wrkResult
	originReqs int64 // origin requests for the object during the run
}

// edgeServers are the servers of the figure, in table order; onair first.
var edgeServers = [3]string{"onair edge", "nginx (files)", "Varnish"}

// edgeCacheControl is what the origin sends: a lifetime much longer than
// the figure, so that every measured request is a cache hit.
const edgeCacheControl = "public, max-age=3600"

func (b *bench) figEdge(ctx context.Context) (*section, error) {
	dir := filepath.Join(b.tmp, "edge")
	root := filepath.Join(dir, "www")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	d := time.Duration(min(10, b.seconds)) * time.Second
	objs := []*edgeObject{
		{what: "media playlist (1 KB)", path: "/live/x/v/index.m3u8", ctype: "application/vnd.apple.mpegurl", body: edgePlaylist(1024)},
		{what: "segment (1 MiB)", path: "/live/x/v/5.m4s", ctype: "video/iso.segment", body: edgeSegment(1 << 20)},
	}
	for _, o := range objs {
		f := filepath.Join(root, filepath.FromSlash(o.path))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return nil, fmt.Errorf("edge: %w", err)
		}
		if err := os.WriteFile(f, o.body, 0o644); err != nil {
			return nil, fmt.Errorf("edge: %w", err)
		}
	}

	origin, err := startEdgeOrigin(objs)
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	defer origin.Close()
	originAddr := origin.Addr().String()

	port, err := freePort("tcp")
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	edgeBase := fmt.Sprintf("http://127.0.0.1:%d", port)
	edgeArgv := []string{b.onair, "edge", "--listen", strings.TrimPrefix(edgeBase, "http://"),
		"--upstream", "http://" + originAddr, "--cache-mib", "256", "--log-level", "warn"}
	edge, err := b.procs.start("onair-edge", edgeArgv, startOpts{})
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	defer edge.stop(10 * time.Second)
	ng, err := startNginx(ctx, b.procs, filepath.Join(dir, "nginx"), root)
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	defer ng.stop()
	vn, err := startVarnish(ctx, b.procs, filepath.Join(dir, "varnish"), originAddr)
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	defer vn.stop()

	// Warm each cache with one request, then check that a second one is
	// a hit with the origin's bytes.
	client := &http.Client{Timeout: 5 * time.Second}
	bases := [3]string{edgeBase, ng.base, vn.base}
	for _, o := range objs {
		err := poll(ctx, 15*time.Second, 50*time.Millisecond, "onair edge", func() (bool, error) {
			if edge.exited() {
				return false, fmt.Errorf("onair edge exited:\n%s", edge.tail(10))
			}
			code, _, _ := httpGet(ctx, client, edgeBase+o.path)
			return code == http.StatusOK, nil
		})
		if err != nil {
			return nil, fmt.Errorf("edge: %w", err)
		}
		if code, _, _ := httpGet(ctx, client, vn.base+o.path); code != http.StatusOK {
			return nil, fmt.Errorf("edge: varnish warm-up GET %s: HTTP %d", o.path, code)
		}
		for i, base := range bases {
			code, h, body := httpGet(ctx, client, base+o.path)
			if code != http.StatusOK || !bytes.Equal(body, o.body) {
				return nil, fmt.Errorf("edge: %s does not serve the origin's bytes for %s (HTTP %d, %d bytes)", edgeServers[i], o.path, code, len(body))
			}
			switch i {
			case 0:
				if xc := h.Get("X-Cache"); xc != "HIT" {
					return nil, fmt.Errorf("edge: onair edge second GET %s: X-Cache %q, want HIT", o.path, xc)
				}
			case 2:
				if xv := h.Get("X-Varnish"); !varnishHit(xv) {
					return nil, fmt.Errorf("edge: varnish second GET %s: X-Varnish %q is not a hit (want two ids)", o.path, xv)
				}
			}
		}
	}

	for _, o := range objs {
		for i, base := range bases {
			b.progress("edge: wrk %s (%d bytes) on %s", o.path, len(o.body), edgeServers[i])
			before := o.served.Load()
			res, err := runWrk(ctx, b.procs, base+o.path, d)
			if err != nil {
				return nil, fmt.Errorf("edge: %w", err)
			}
			o.runs[i] = edgeRun{wrk: res, originReqs: o.served.Load() - before}
		}
	}

	conf, _ := os.ReadFile(ng.conf)
	sec := &section{
		title: "5. Edge cache hits: onair edge vs nginx vs Varnish",
		measures: "Cache-hit requests per second, transfer rate and latency (wrk --latency: p50, p99) for a 1 KB media " +
			"playlist and a 1 MiB segment through the onair edge (`onair edge`, in-memory cache) and through Varnish " +
			"(Debian varnishd, builtin VCL, malloc storage), both caching the same origin, and through nginx serving " +
			"the same bytes from files, one (server, object) pair at a time in the same run. The origin is a Go " +
			"net/http server inside the bench process answering both objects from memory with `Cache-Control: " +
			edgeCacheControl + "`, so after one warm-up request (checked: onair `X-Cache: HIT`, Varnish `X-Varnish` " +
			"with two ids) every measured request is a hit; the origin requests column counts any that were not. " +
			"wrk itself competes for the same 2 cores as the server under test. MB/s is wrk's Transfer/sec " +
			"(headers included) in 10^6 bytes. Goal: onair at or above nginx and Varnish.",
		commands: []string{
			"# origin: in-process net/http on " + originAddr + " serving " + objs[0].path + " and " + objs[1].path + " from memory",
			shellQuote(edgeArgv),
			shellQuote(vn.argv),
			shellQuote(ng.argv),
			shellQuote(wrkArgs("http://127.0.0.1:PORT/PATH", d)) + "   # once per (server, object), one at a time",
		},
	}
	t := newTable("object", "server", "req/s", "MB/s", "p50", "p99", "errors", "origin requests during run", "onair / this")
	for _, o := range objs {
		on := o.runs[0].wrk.RPS
		for i, r := range o.runs {
			origin := strconv.FormatInt(r.originReqs, 10)
			if i == 1 {
				origin = "n/a (files)"
			}
			t.add(o.what, edgeServers[i], fmt.Sprintf("%.0f", r.wrk.RPS), fmt.Sprintf("%.1f", r.wrk.TransferBps/1e6),
				dur(r.wrk.P50), dur(r.wrk.P99), strconv.FormatInt(r.wrk.Non2xx+r.wrk.SocketErrs, 10), origin, f3(on/r.wrk.RPS))
		}
	}
	sec.tables = append(sec.tables, t)
	sec.notes = append(sec.notes, "nginx configuration:\n\n```nginx\n"+string(conf)+"```")
	var parts []string
	met := true
	for _, o := range objs {
		rn, rv := o.runs[0].wrk.RPS/o.runs[1].wrk.RPS, o.runs[0].wrk.RPS/o.runs[2].wrk.RPS
		met = met && rn >= 1 && rv >= 1
		parts = append(parts, fmt.Sprintf("%s: onair/nginx %s, onair/Varnish %s", o.what, f3(rn), f3(rv)))
	}
	verdict := "goal met"
	if !met {
		verdict = "goal not met"
	}
	sec.reading = strings.Join(parts, "; ") + " (" + verdict + ")."
	return sec, nil
}

// startEdgeOrigin serves objs from memory on a free loopback port with a
// long Cache-Control lifetime, counting the requests for each. Close the
// returned server to stop it.
func startEdgeOrigin(objs []*edgeObject) (*edgeOrigin, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("origin listen: %w", err)
	}
	mux := http.NewServeMux()
	for _, o := range objs {
		mux.HandleFunc("GET "+o.path, func(w http.ResponseWriter, r *http.Request) {
			o.served.Add(1)
			h := w.Header()
			h.Set("Content-Type", o.ctype)
			h.Set("Cache-Control", edgeCacheControl)
			h.Set("Content-Length", strconv.Itoa(len(o.body)))
			if r.Method == http.MethodHead {
				return
			}
			_, _ = w.Write(o.body)
		})
	}
	s := &edgeOrigin{l: l, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	// Serve returns ErrServerClosed on Close; any other failure shows as
	// failed warm-up requests.
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

// edgeOrigin is the figure's in-process origin.
type edgeOrigin struct {
	l   net.Listener
	srv *http.Server
}

// Addr is the origin's listen address (127.0.0.1:PORT).
func (s *edgeOrigin) Addr() net.Addr { return s.l.Addr() }

// Close stops the origin and closes its connections.
func (s *edgeOrigin) Close() error { return s.srv.Close() }

// edgePlaylist returns a live media playlist of exactly n bytes: 2 s
// segments, padded with a comment line to n.
func edgePlaylist(n int) []byte {
	var b bytes.Buffer
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-MAP:URI=\"init.mp4\"\n")
	for i := 0; ; i++ {
		seg := fmt.Sprintf("#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:%02d.000Z\n#EXTINF:2.00000,\n%d.m4s\n", 2*i%60, i)
		if b.Len()+len(seg)+len("## \n") > n {
			break
		}
		b.WriteString(seg)
	}
	if pad := n - b.Len() - len("## \n"); pad >= 0 {
		b.WriteString("## " + strings.Repeat("x", pad) + "\n")
	}
	return b.Bytes()
}

// edgeSegment returns n pseudo-random bytes (incompressible, the same on
// every run).
func edgeSegment(n int) []byte {
	r := rand.NewChaCha8([32]byte{'o', 'n', 'a', 'i', 'r'})
	b := make([]byte, n)
	_, _ = r.Read(b)
	return b
}
