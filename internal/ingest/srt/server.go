package srt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	gosrt "github.com/datarhei/gosrt"
	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/ingest"
	"onair/internal/stream"
)

const protocol = "srt"

// Config configures the SRT server.
type Config struct {
	// Addr is the UDP address to listen on, e.g. ":9000" or "127.0.0.1:0".
	Addr string
	// Latency is the SRT receiver latency (TSBPD delay) offered to callers;
	// the larger of this and the caller's is used. Default 120 ms.
	Latency time.Duration
	ingest.Limits
}

// Server accepts SRT publishers.
type Server struct {
	cfg     Config
	router  ingest.Router
	log     *slog.Logger
	metrics *ingest.Metrics

	mu    sync.Mutex
	ln    gosrt.Listener
	conns map[gosrt.Conn]struct{}
}

// New returns a server. It registers its metrics on reg and binds nothing.
func New(cfg Config, router ingest.Router, log *slog.Logger, reg prometheus.Registerer) (*Server, error) {
	if router == nil || log == nil {
		return nil, errors.New("srt: router and logger are required")
	}
	if cfg.Addr == "" {
		return nil, errors.New("srt: listen address is required")
	}
	if cfg.Latency < 0 {
		return nil, errors.New("srt: latency must not be negative")
	}
	if cfg.Latency == 0 {
		cfg.Latency = 120 * time.Millisecond
	}
	lim, err := cfg.Limits.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("srt: %w", err)
	}
	cfg.Limits = lim
	m, err := ingest.NewMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("srt: %w", err)
	}
	return &Server{cfg: cfg, router: router, log: log.With("role", "ingest", "protocol", protocol), metrics: m}, nil
}

// Listen binds the UDP socket. After it, Addr returns the bound address.
// Serve calls it if it was not called.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	conf := gosrt.DefaultConfig()
	conf.Latency = s.cfg.Latency
	// gosrt's own idle timeout would end a silent peer as a plain
	// disconnect; ours must fire first to report it as stalled.
	conf.PeerIdleTimeout = s.cfg.ReadTimeout + 2*time.Second
	ln, err := gosrt.Listen("srt", s.cfg.Addr, conf)
	if err != nil {
		return fmt.Errorf("srt listen %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	return nil
}

// Addr returns the bound address, nil before Listen.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Serve accepts callers until ctx ends, then closes the listener and every
// connection, waits for their handlers and returns nil.
func (s *Server) Serve(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	ln := s.ln
	s.conns = map[gosrt.Conn]struct{}{}
	s.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		s.shutdown()
		wg.Wait()
	}()
	wg.Go(func() {
		<-ctx.Done()
		s.shutdown()
	})
	for {
		req, err := ln.Accept2()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("srt accept: %w", err)
		}
		c := s.admit(req)
		if c == nil {
			continue
		}
		wg.Go(func() {
			defer s.untrack(c.sc)
			s.handle(ctx, c)
		})
	}
}

// shutdown closes the listener, which closes every connection.
func (s *Server) shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	for sc := range s.conns {
		_ = sc.Close()
	}
	s.conns = nil
}

func (s *Server) untrack(sc gosrt.Conn) {
	s.mu.Lock()
	delete(s.conns, sc)
	s.mu.Unlock()
}

// admit decides on a connection request during the SRT handshake: the
// stream id, the route, the passphrase and the channel's state. A refused
// request is answered with an SRT rejection reason, logged and counted; an
// accepted one returns its conn.
func (s *Server) admit(req gosrt.ConnRequest) (c *conn) {
	c = &conn{s: s, remote: req.RemoteAddr().String(), started: time.Now()}
	reject := func(reason gosrt.RejectionReason, err error) *conn {
		req.Reject(reason)
		ingest.Finish(s.log, s.metrics, ingest.Conn{Protocol: protocol, Remote: c.remote, Channel: c.channel, Started: c.started}, err)
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			s.metrics.Panics.WithLabelValues(protocol).Inc()
			s.log.Error("ingest connection handler panicked", "remote", c.remote, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			c = reject(gosrt.REJX_ISE, ingest.Rejectf(ingest.ResultError, "internal error (panic)"))
		}
	}()

	if s.count() >= s.cfg.MaxConns {
		return reject(gosrt.REJX_OVERLOAD, ingest.Rejectf(ingest.ResultError, "too many connections (max %d)", s.cfg.MaxConns))
	}
	if req.Version() != 5 {
		return reject(gosrt.REJX_BAD_REQUEST, ingest.Rejectf(ingest.ResultUnknownKey, "srt v%d handshake carries no streamid (need SRT 1.3 or later)", req.Version()))
	}
	id, err := parseStreamID(req.StreamId())
	if err != nil {
		return reject(gosrt.REJX_BAD_REQUEST, ingest.Reject(ingest.ResultUnknownKey, err))
	}
	if id.Mode != modePublish {
		return reject(gosrt.REJX_BAD_MODE, ingest.Rejectf(ingest.ResultError, "streamid mode %q refused: only publishers are accepted (m=publish)", id.Mode))
	}
	target, err := s.router.Route(id.Key)
	if err != nil {
		if errors.Is(err, ingest.ErrUnknownKey) {
			return reject(gosrt.REJX_NOTFOUND, ingest.Reject(ingest.ResultUnknownKey, fmt.Errorf("stream key %s: %w", ingest.RedactKey(id.Key), err)))
		}
		return reject(gosrt.REJX_ISE, ingest.Rejectf(ingest.ResultError, "route stream key %s: %w", ingest.RedactKey(id.Key), err))
	}
	c.channel, c.target = target.Channel, target
	switch {
	case target.Stream == nil:
		return reject(gosrt.REJX_ISE, ingest.Rejectf(ingest.ResultError, "router gave channel %s no stream", target.Channel))
	case target.Passphrase != "" && !req.IsEncrypted():
		return reject(gosrt.REJ_UNSECURE, ingest.Rejectf(ingest.ResultBadPassphrase, "channel requires encryption but the caller sent no passphrase"))
	case target.Passphrase == "" && req.IsEncrypted():
		return reject(gosrt.REJ_UNSECURE, ingest.Rejectf(ingest.ResultBadPassphrase, "caller encrypts but the channel has no passphrase"))
	case target.Passphrase != "":
		if err := req.SetPassphrase(target.Passphrase); err != nil {
			return reject(gosrt.REJ_BADSECRET, ingest.Rejectf(ingest.ResultBadPassphrase, "wrong passphrase"))
		}
	}
	if target.Stream.InputActive(target.In()) {
		return reject(gosrt.REJX_CONFLICT, ingest.Reject(ingest.ResultBusy, fmt.Errorf("channel %s: %w", target.Channel, stream.ErrBusy)))
	}
	sc, err := req.Accept()
	if err != nil {
		ingest.Finish(s.log, s.metrics, ingest.Conn{Protocol: protocol, Remote: c.remote, Channel: c.channel, Started: c.started},
			ingest.Rejectf(ingest.ResultError, "srt accept: %w", err))
		return nil
	}
	c.sc = sc
	if !s.track(sc) {
		_ = sc.Close()
		return nil // shutting down
	}
	return c
}

func (s *Server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) track(sc gosrt.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		return false
	}
	s.conns[sc] = struct{}{}
	return true
}

// handle runs one accepted connection to its end and logs that end once.
func (s *Server) handle(ctx context.Context, c *conn) {
	var err error
	defer func() {
		if r := recover(); r != nil {
			s.metrics.Panics.WithLabelValues(protocol).Inc()
			s.log.Error("ingest connection handler panicked", "remote", c.remote, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = ingest.Rejectf(ingest.ResultError, "internal error (panic)")
		}
		_ = c.sc.Close()
		ingest.Finish(s.log, s.metrics, ingest.Conn{Protocol: protocol, Remote: c.remote, Channel: c.channel, Session: c.sess, Started: c.started}, err)
	}()
	err = c.run(ctx)
}
