package rtmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/ingest"
)

const protocol = "rtmp"

// Config configures the RTMP server.
type Config struct {
	ingest.Limits
}

// Server accepts RTMP publishers. Serve may run concurrently on several
// listeners (RTMP and RTMPS); MaxConns counts across all of them.
type Server struct {
	cfg     Config
	router  ingest.Router
	log     *slog.Logger
	metrics *ingest.Metrics
	active  atomic.Int64 // connections being served, all listeners
}

// New returns a server. It registers its metrics on reg and starts nothing.
func New(cfg Config, router ingest.Router, log *slog.Logger, reg prometheus.Registerer) (*Server, error) {
	if router == nil || log == nil {
		return nil, errors.New("rtmp: router and logger are required")
	}
	lim, err := cfg.Limits.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("rtmp: %w", err)
	}
	cfg.Limits = lim
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
// connection it accepted, waits for their handlers and returns nil. It
// returns an error if accepting fails for another reason.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	var conns connSet
	var wg sync.WaitGroup
	defer func() {
		cancel()
		_ = ln.Close()
		conns.closeAll()
		wg.Wait()
	}()
	wg.Go(func() {
		<-ctx.Done()
		_ = ln.Close()
		conns.closeAll()
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
		if s.active.Add(1) > int64(s.cfg.MaxConns) {
			s.active.Add(-1)
			_ = nc.Close()
			s.metrics.Count(protocol, ingest.ResultError)
			s.log.Warn("ingest connection refused", "remote", nc.RemoteAddr().String(), "result", string(ingest.ResultError),
				"reason", fmt.Sprintf("too many connections (max %d)", s.cfg.MaxConns))
			continue
		}
		if !conns.add(nc) {
			s.active.Add(-1)
			_ = nc.Close()
			return nil // shutting down
		}
		wg.Go(func() {
			defer s.active.Add(-1)
			defer conns.remove(nc)
			s.handle(ctx, nc)
		})
	}
}

// connSet is the connections one Serve call accepted.
type connSet struct {
	mu     sync.Mutex
	m      map[net.Conn]struct{}
	closed bool
}

// add registers nc unless the set was closed.
func (cs *connSet) add(nc net.Conn) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closed {
		return false
	}
	if cs.m == nil {
		cs.m = map[net.Conn]struct{}{}
	}
	cs.m[nc] = struct{}{}
	return true
}

func (cs *connSet) remove(nc net.Conn) {
	cs.mu.Lock()
	delete(cs.m, nc)
	cs.mu.Unlock()
}

// closeAll closes every connection (their handlers then end) and refuses
// new ones.
func (cs *connSet) closeAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.closed = true
	for nc := range cs.m {
		_ = nc.Close()
	}
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
