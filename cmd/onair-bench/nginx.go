package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// nginxServer is nginx serving a directory on a loopback port, with
// every path it writes (pid, logs, temp files) under its own directory.
type nginxServer struct {
	p    *proc
	base string // http://127.0.0.1:PORT
	root string // document root
	conf string // the generated configuration
	argv []string
}

// nginxConf is the generated configuration: static files, sendfile, no
// access log, keep-alive connections kept for the whole wrk run.
const nginxConf = `worker_processes auto;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %[1]s/tmp/client_body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
    types {
        application/vnd.apple.mpegurl m3u8;
        video/iso.segment m4s;
        video/mp4 mp4;
    }
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:%[2]d;
        root %[3]s;
    }
}
`

// startNginx writes a configuration under dir and runs nginx in the
// foreground (daemon off) serving root on a free loopback port.
func startNginx(ctx context.Context, r *procs, dir, root string) (*nginxServer, error) {
	port, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return nil, fmt.Errorf("nginx dir: %w", err)
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, nginxConf, dir, port, root), 0o644); err != nil {
		return nil, fmt.Errorf("nginx config: %w", err)
	}
	n := &nginxServer{base: fmt.Sprintf("http://127.0.0.1:%d", port), root: root, conf: conf}
	n.argv = []string{"nginx", "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", conf, "-g", "daemon off;"}
	if n.p, err = r.start("nginx", n.argv, startOpts{}); err != nil {
		return nil, err
	}
	c := &http.Client{Timeout: 2 * time.Second}
	err = poll(ctx, 10*time.Second, 50*time.Millisecond, "nginx", func() (bool, error) {
		if n.p.exited() {
			return false, fmt.Errorf("nginx exited:\n%s", n.p.tail(10))
		}
		code, _, _ := httpGet(ctx, c, n.base+"/")
		return code != 0, nil
	})
	if err != nil {
		_ = n.p.stop(3 * time.Second)
		return nil, err
	}
	return n, nil
}

// stop stops nginx (SIGTERM is nginx's fast shutdown).
func (n *nginxServer) stop() error { return n.p.stop(5 * time.Second) }
