package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"onair/internal/config"
)

// shutdownGrace is how long in-flight requests get to finish on shutdown.
const shutdownGrace = 5 * time.Second

// shutdown stops srv gracefully; requests still running after the grace
// period (LL-HLS blocking reloads, held parts, collapsed fills) are cut,
// which is a normal end of a live server, not an error.
func shutdown(srv *http.Server, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		log.Info("closing connections still busy after the shutdown grace period", "grace", shutdownGrace)
		return srv.Close()
	}
	return err
}

// canonicalPaths answers 400 to a request whose path is not canonical (dot
// segments, doubled slashes, NUL) instead of letting http.ServeMux redirect
// it to a cleaned path: a traversal attempt gets a refusal, not a hint.
func canonicalPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		clean := path.Clean(p)
		if strings.HasSuffix(p, "/") && clean != "/" {
			clean += "/"
		}
		if p == "" || p[0] != '/' || clean != p || strings.ContainsRune(p, 0) {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "bad request path", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// publicServer returns the http.Server for a viewer-facing port: HTTP/1.1,
// HTTP/2 over TLS and cleartext HTTP/2 (h2c with prior knowledge) on the
// same listeners. ReadHeaderTimeout 5 s cuts a client that never finishes
// its request head (slowloris); IdleTimeout 2 min; the header limit is
// cfg.MaxHeaderBytes (431 beyond it). There is no WriteTimeout: a long
// blocking reload or a slow viewer on a large segment is legitimate, and
// every wait watches the request context.
func publicServer(h http.Handler, cfg config.Edge, certs *certStore, log *slog.Logger) *http.Server {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(true)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		Protocols:         &p,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	if certs != nil {
		srv.TLSConfig = certs.tlsConfig()
	}
	return srv
}

// publicListeners are the viewer-facing listeners of `onair serve` or
// `onair edge`: cleartext, TLS, or both, sharing one connection limit.
type publicListeners struct {
	plain, tls net.Listener // nil when off; tls is a TCP listener, TLS is added by ServeTLS
	limiter    *connLimiter
	certs      *certStore // nil without TLS
}

// listenPublic binds plainAddr ("" for none) and, when cfg has a
// certificate, cfg.TLSListen, both limited to cfg.MaxConns connections.
// The limit's metrics go to reg.
func listenPublic(plainAddr string, cfg config.Edge, log *slog.Logger, reg prometheus.Registerer) (*publicListeners, error) {
	if plainAddr == "" && !cfg.TLS() {
		return nil, errors.New("nothing to listen on: give a cleartext address or a TLS certificate and key")
	}
	limiter, err := newConnLimiter(cfg.MaxConns, log, reg)
	if err != nil {
		return nil, err
	}
	p := &publicListeners{limiter: limiter}
	if cfg.TLS() {
		cert, err := loadCertificate(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, err
		}
		p.certs = &certStore{}
		p.certs.store(cert)
		ln, err := net.Listen("tcp", cfg.TLSListen)
		if err != nil {
			return nil, fmt.Errorf("https listen %s: %w", cfg.TLSListen, err)
		}
		p.tls = limiter.Listener(ln)
	}
	if plainAddr != "" {
		ln, err := net.Listen("tcp", plainAddr)
		if err != nil {
			p.close()
			return nil, fmt.Errorf("http listen %s: %w", plainAddr, err)
		}
		p.plain = limiter.Listener(ln)
	}
	return p, nil
}

// addrs returns the bound addresses, nil for a listener that is off.
func (p *publicListeners) addrs() (plain, secure net.Addr) {
	if p.plain != nil {
		plain = p.plain.Addr()
	}
	if p.tls != nil {
		secure = p.tls.Addr()
	}
	return plain, secure
}

// serve serves srv on every listener in g; Shutdown ends them.
func (p *publicListeners) serve(g *errgroup.Group, srv *http.Server, name string) {
	if p.plain != nil {
		g.Go(func() error {
			if err := srv.Serve(p.plain); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("%s http: %w", name, err)
			}
			return nil
		})
	}
	if p.tls != nil {
		g.Go(func() error {
			// The certificate comes from srv.TLSConfig (GetCertificate).
			if err := srv.ServeTLS(p.tls, "", ""); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("%s https: %w", name, err)
			}
			return nil
		})
	}
}

// close closes the listeners (for a server that never served).
func (p *publicListeners) close() {
	for _, ln := range []net.Listener{p.plain, p.tls} {
		if ln != nil {
			ln.Close()
		}
	}
}

// certStore holds the TLS certificate being served; a reload replaces it
// for new handshakes.
type certStore struct {
	cur atomic.Pointer[tls.Certificate]
}

func (c *certStore) store(cert *tls.Certificate) { c.cur.Store(cert) }

// tlsConfig serves the current certificate; TLS 1.2 at least. ServeTLS
// adds the ALPN protocols (h2, http/1.1).
func (c *certStore) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load(), nil
		},
	}
}

// loadCertificate reads a PEM certificate (chain) and key.
func loadCertificate(certFile, keyFile string) (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls certificate: %w", err)
	}
	return &cert, nil
}
