package rtmp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/bluenviron/gortmplib"

	"onair/internal/ingest"
	"onair/internal/stream"
)

// handshakeSize is what a client sends in the RTMP handshake: C0, C1, C2
// (RTMP spec 5.2).
const handshakeSize = 1 + 1536 + 1536

// conn is one RTMP connection, from accept to close.
type conn struct {
	s       *Server
	nc      net.Conn
	rw      *timeoutConn
	remote  string
	started time.Time

	// Known once routed / publishing; read by Server.handle at the end.
	channel string
	sess    *ingest.Session
}

func newConn(s *Server, nc net.Conn) *conn {
	return &conn{s: s, nc: nc, rw: &timeoutConn{Conn: nc}, remote: nc.RemoteAddr().String(), started: time.Now()}
}

// run serves the connection until it ends and returns why: an error
// wrapping ingest.ErrEnded for a normal end, an ingest.Rejection otherwise.
// It never returns nil.
func (c *conn) run(ctx context.Context) error {
	cfg := c.s.cfg
	if err := c.nc.SetDeadline(time.Now().Add(cfg.HandshakeTimeout)); err != nil {
		return ingest.Rejectf(ingest.ResultError, "set handshake deadline: %w", err)
	}
	sc := &gortmplib.ServerConn{RW: c.rw}
	if err := sc.Initialize(); err != nil {
		step := "handshake"
		if sc.BytesReceived() >= handshakeSize {
			step = "connect"
		}
		return c.handshakeError(ctx, step, err)
	}
	if err := sc.AcceptConn(); err != nil {
		return c.handshakeError(ctx, "publish command", err)
	}
	if !sc.Publish {
		_ = sc.RejectAction()
		return ingest.Rejectf(ingest.ResultError, "play request refused: this endpoint only accepts publishers")
	}
	key, err := streamKey(sc.URL)
	if err != nil {
		_ = sc.RejectAction()
		return ingest.Reject(ingest.ResultUnknownKey, err)
	}
	target, err := c.s.router.Route(key)
	if err != nil {
		_ = sc.RejectAction()
		if errors.Is(err, ingest.ErrUnknownKey) {
			return ingest.Reject(ingest.ResultUnknownKey, fmt.Errorf("stream key %s: %w", ingest.RedactKey(key), err))
		}
		return ingest.Rejectf(ingest.ResultError, "route stream key %s: %w", ingest.RedactKey(key), err)
	}
	c.channel = target.Channel
	if target.Stream == nil {
		_ = sc.RejectAction()
		return ingest.Rejectf(ingest.ResultError, "router gave channel %s no stream", target.Channel)
	}
	// Refuse a second publisher before telling it Publish.Start; the
	// stream's own ErrBusy at publish time settles any race.
	if target.Stream.InputActive(target.In()) {
		_ = sc.RejectAction()
		return ingest.Reject(ingest.ResultBusy, fmt.Errorf("channel %s: %w", target.Channel, stream.ErrBusy))
	}
	if err := sc.AcceptAction(); err != nil {
		return c.readError(ctx, fmt.Errorf("accept publish: %w", err))
	}

	// Streaming: no fixed deadline any more, a fresh one per read.
	if err := c.nc.SetDeadline(time.Time{}); err != nil {
		return ingest.Rejectf(ingest.ResultError, "clear handshake deadline: %w", err)
	}
	c.rw.stream(cfg.ReadTimeout, c.s.metrics.Bytes.WithLabelValues(protocol, target.Channel))
	c.sess = ingest.NewSession(ingest.SessionConfig{
		Protocol: protocol,
		Remote:   c.remote,
		Target:   target,
		Metrics:  c.s.metrics,
		Log:      c.s.log,
		MaxWait:  cfg.MaxWait,
		MaxUnits: cfg.MaxUnits,
	})
	d := newDemuxer(c.sess)
	for {
		msg, err := sc.Read()
		if err != nil {
			return c.readError(ctx, err)
		}
		if err := d.handle(msg, time.Now()); err != nil {
			return err
		}
	}
}

// handshakeError classifies a failure before the publish command.
func (c *conn) handshakeError(ctx context.Context, step string, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%w: server shutting down", ingest.ErrEnded)
	case isTimeout(err):
		return ingest.Rejectf(ingest.ResultStalled, "rtmp %s not completed within %v", step, c.s.cfg.HandshakeTimeout)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ingest.Rejectf(ingest.ResultBadHandshake, "connection closed during rtmp %s", step)
	}
	return ingest.Rejectf(ingest.ResultBadHandshake, "rtmp %s: %w", step, err)
}

// readError classifies a failure once publishing was accepted.
func (c *conn) readError(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%w: server shutting down", ingest.ErrEnded)
	case isTimeout(err):
		return ingest.Rejectf(ingest.ResultStalled, "no data for %v", c.s.cfg.ReadTimeout)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), errors.Is(err, io.ErrClosedPipe),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return fmt.Errorf("%w: publisher disconnected", ingest.ErrEnded)
	}
	if rej := unsupportedFromReadError(err); rej != nil {
		return rej
	}
	return ingest.Rejectf(ingest.ResultError, "rtmp read: %w", err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
