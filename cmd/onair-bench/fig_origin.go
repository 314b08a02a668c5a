package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"onair/internal/media"
)

// originObject is one request path measured on both servers.
type originObject struct {
	what string
	path string
	body []byte
	on   wrkResult
	ng   wrkResult
}

func (b *bench) figOrigin(ctx context.Context) (*section, error) {
	dir := filepath.Join(b.tmp, "origin")
	root := filepath.Join(dir, "www")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("origin: %w", err)
	}
	d := time.Duration(min(10, b.seconds)) * time.Second
	srv, err := startOnair(b.procs, b.onair, "onair-origin", filepath.Join(dir, "data"), "--demo")
	if err != nil {
		return nil, fmt.Errorf("origin: %w", err)
	}
	defer srv.stop()
	if err := srv.waitReady(ctx, 30*time.Second); err != nil {
		return nil, fmt.Errorf("origin: %w", err)
	}
	top := media.Fit(media.DefaultLadder(), srcTrack)[0].Name
	b.progress("origin: waiting for two complete segments in %s and source", top)
	for _, r := range []string{top, media.SourceRendition} {
		if err := b.waitSegments(ctx, srv, "/live/demo/"+r+"/index.m3u8", 2); err != nil {
			return nil, fmt.Errorf("origin: %w", err)
		}
	}
	objs := []*originObject{{what: "media playlist (" + top + ")", path: "/live/demo/" + top + "/index.m3u8"}}
	for _, r := range []string{top, media.SourceRendition} {
		_, _, pl := srv.get(ctx, "/live/demo/"+r+"/index.m3u8")
		segs := parseMediaSegments(string(pl))
		if len(segs) == 0 {
			return nil, fmt.Errorf("origin: %s playlist lists no segment", r)
		}
		what := "segment (" + r + ", largest transcoded rendition)"
		if r == media.SourceRendition {
			what = "segment (source passthrough, 2.5 Mb/s)"
		}
		objs = append(objs, &originObject{what: what, path: "/live/demo/" + r + "/" + segs[len(segs)-1].URI})
	}
	for _, o := range objs {
		code, _, body := srv.get(ctx, o.path)
		if code != http.StatusOK {
			return nil, fmt.Errorf("origin: GET %s: HTTP %d", o.path, code)
		}
		o.body = body
		f := filepath.Join(root, filepath.FromSlash(o.path))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return nil, fmt.Errorf("origin: %w", err)
		}
		if err := os.WriteFile(f, body, 0o644); err != nil {
			return nil, fmt.Errorf("origin: %w", err)
		}
	}
	ng, err := startNginx(ctx, b.procs, filepath.Join(dir, "nginx"), root)
	if err != nil {
		return nil, fmt.Errorf("origin: %w", err)
	}
	defer ng.stop()
	client := &http.Client{Timeout: 5 * time.Second}
	for _, o := range objs {
		if code, _, body := httpGet(ctx, client, ng.base+o.path); code != http.StatusOK || !bytes.Equal(body, o.body) {
			return nil, fmt.Errorf("origin: nginx does not serve the same bytes for %s (HTTP %d)", o.path, code)
		}
		b.progress("origin: wrk %s (%d bytes) on onair, then nginx", o.path, len(o.body))
		if o.on, err = runWrk(ctx, b.procs, srv.base+o.path, d); err != nil {
			return nil, fmt.Errorf("origin: %w", err)
		}
		if o.ng, err = runWrk(ctx, b.procs, ng.base+o.path, d); err != nil {
			return nil, fmt.Errorf("origin: %w", err)
		}
	}

	conf, _ := os.ReadFile(ng.conf)
	sec := &section{
		title: "4. Origin throughput: onair vs nginx",
		measures: "Requests per second and latency (wrk --latency: p50, p99) for the same request path through onair's " +
			"origin (`onair serve --demo`, fresh data dir, the demo channel live and transcoding during the test) and " +
			"through nginx serving the same bytes from files (fetched once from onair and written under its root), " +
			"back to back in the same run, same wrk parameters, same machine. The media playlist is the default profile's " +
			"LL-HLS playlist: onair builds it on every request (and it grows as the live window fills) while nginx sends " +
			"a static file. onair keeps the bytes of the 4 newest segments of a rendition in memory: the segment chosen " +
			"was the newest complete one, so for the last seconds of its run onair serves it from its file store. " +
			"wrk itself competes for the same 2 cores. Goal: none stated; ratio onair/nginx reported.",
		commands: []string{
			shellQuote(srv.argv),
			shellQuote(ng.argv),
			shellQuote(wrkArgs("http://127.0.0.1:PORT/PATH", d)) + "   # once against onair, once against nginx, per path",
		},
	}
	t := newTable("object", "path", "bytes", "onair req/s", "nginx req/s", "onair / nginx", "onair p50", "nginx p50", "onair p99", "nginx p99", "errors (onair, nginx)")
	for _, o := range objs {
		t.add(o.what, "`"+o.path+"`", fmt.Sprint(len(o.body)), fmt.Sprintf("%.0f", o.on.RPS), fmt.Sprintf("%.0f", o.ng.RPS),
			f3(o.on.RPS/o.ng.RPS), dur(o.on.P50), dur(o.ng.P50), dur(o.on.P99), dur(o.ng.P99),
			fmt.Sprintf("%d, %d", o.on.Non2xx+o.on.SocketErrs, o.ng.Non2xx+o.ng.SocketErrs))
	}
	sec.tables = append(sec.tables, t)
	sec.notes = append(sec.notes, "nginx configuration:\n\n```nginx\n"+string(conf)+"```")
	sec.reading = fmt.Sprintf("onair serves the playlist at %.0f%% and segments at %.0f%% / %.0f%% of nginx's rate.",
		objs[0].on.RPS/objs[0].ng.RPS*100, objs[1].on.RPS/objs[1].ng.RPS*100, objs[2].on.RPS/objs[2].ng.RPS*100)
	return sec, nil
}

// waitSegments waits until a media playlist lists n complete segments.
func (b *bench) waitSegments(ctx context.Context, srv *onairServer, path string, n int) error {
	return poll(ctx, 40*time.Second, 100*time.Millisecond, fmt.Sprintf("%d segments in %s", n, path), func() (bool, error) {
		if srv.p.exited() {
			return false, fmt.Errorf("onair exited:\n%s", srv.p.tail(10))
		}
		code, _, body := srv.get(ctx, path)
		return code == http.StatusOK && len(parseMediaSegments(string(body))) >= n, nil
	})
}
