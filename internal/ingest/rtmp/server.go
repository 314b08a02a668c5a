package rtmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/ingest"
)

const protocol = "rtmp"

// Config configures the RTMP server.
type Config struct {
	// ReadTimeout cuts a publisher that sends nothing for this long
	// (default 10 s).
	ReadTimeout time.Duration
	// HandshakeTimeout bounds the time from accept to the publish command
	// (default 5 s).
	HandshakeTimeout time.Duration
	// MaxConns bounds concurrent connections; more are closed at once
	// (default 256).
	MaxConns int
	// MaxWait and MaxUnits bound the buffer before the first keyframe
	// (defaults ingest.DefaultMaxWait, ingest.DefaultMaxUnits).
	MaxWait  time.Duration
	MaxUnits int
}

// Server accepts RTMP publishers.
type Server struct {
	cfg     Config
	router  ingest.Router
	log     *slog.Logger
	metrics *ingest.Metrics

	mu    sync.Mutex
	conns map[net.Conn]struct{} // nil while not serving
}

// New returns a server. It registers its metrics on reg and starts nothing.
func New(cfg Config, router ingest.Router, log *slog.Logger, reg prometheus.Registerer) (*Server, error) {
	if router == nil || log == nil {
		return nil, errors.New("rtmp: router and logger are required")
	}
	if cfg.ReadTimeout < 0 || cfg.HandshakeTimeout < 0 || cfg.MaxConns < 0 {
		return nil, fmt.Errorf("rtmp: timeouts and max conns must not be negative")
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = 10 * time.Second
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = 5 * time.Second
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = 256
	}
	m, err := ingest.NewMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("rtmp: %w", err)
	}
	return &Server{
		cfg:     cfg,
		router:  router,
		log:     log.With("role", "ingest", "protocol", protocol),
		metrics: m,
	}, nil
}

// Serve accepts connections on ln until ctx ends, then closes ln and every
// connection, waits for their handlers and returns nil. It returns an
// error if accepting fails for another reason.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	s.conns = map[net.Conn]struct{}{}
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		_ = ln.Close()
		s.closeAll()
		wg.Wait()
	}()
	wg.Go(func() {
		<-ctx.Done()
		_ = ln.Close()
		s.closeAll()
	})
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Transient (e.g. too many open files): back off.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(delay):
				case <-ctx.Done():
					return nil
				}
				continue
			}
			return fmt.Errorf("rtmp accept: %w", err)
		}
		delay = 0
		if !s.track(nc) {
			_ = nc.Close()
			if ctx.Err() != nil {
				return nil
			}
			s.metrics.Count(protocol, ingest.ResultError)
			s.log.Warn("ingest connection refused", "remote", nc.RemoteAddr().String(), "result", string(ingest.ResultError),
				"reason", fmt.Sprintf("too many connections (max %d)", s.cfg.MaxConns))
			continue
		}
		wg.Go(func() {
			defer s.untrack(nc)
			s.handle(ctx, nc)
		})
	}
}

// track registers a connection unless MaxConns are open or the server is
// shutting down.
func (s *Server) track(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil || len(s.conns) >= s.cfg.MaxConns {
		return false
	}
	s.conns[nc] = struct{}{}
	return true
}

func (s *Server) untrack(nc net.Conn) {
	s.mu.Lock()
	delete(s.conns, nc)
	s.mu.Unlock()
}

// closeAll closes every connection (their handlers then end) and refuses
// new ones.
func (s *Server) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for nc := range s.conns {
		_ = nc.Close()
	}
	s.conns = nil
}

// handle runs one connection to its end and logs that end once. A panic
// is the last resort: recovered, counted, logged with its stack.
func (s *Server) handle(ctx context.Context, nc net.Conn) {
	c := newConn(s, nc)
	var err error
	defer func() {
		if r := recover(); r != nil {
			s.metrics.Panics.WithLabelValues(protocol).Inc()
			s.log.Error("ingest connection handler panicked", "remote", c.remote, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = ingest.Rejectf(ingest.ResultError, "internal error (panic)")
		}
		_ = nc.Close()
		ingest.Finish(s.log, s.metrics, ingest.Conn{Protocol: protocol, Remote: c.remote, Channel: c.channel, Session: c.sess, Started: c.started}, err)
	}()
	err = c.run(ctx)
}
