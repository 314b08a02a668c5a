package app

import (
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// refusalLogEvery is how often refusals are logged (with their count)
// while the limit is reached.
const refusalLogEvery = 10 * time.Second

// connLimiter caps the client connections open at once across the
// listeners it wraps. A connection beyond the cap is accepted and closed at
// once with a TCP reset: the client learns quickly that it was refused
// instead of waiting in the kernel's accept queue, and the server spends
// nothing on it. The cap may change while serving (SetMax).
type connLimiter struct {
	log     *slog.Logger
	max     atomic.Int64
	open    atomic.Int64
	refused prometheus.Counter

	mu       sync.Mutex // guards the refusal log's state
	lastLog  time.Time
	sinceLog int
}

// newConnLimiter returns a limiter of max connections whose metrics are
// registered on reg (nil: not registered).
func newConnLimiter(max int, log *slog.Logger, reg prometheus.Registerer) (*connLimiter, error) {
	l := &connLimiter{
		log: log,
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "onair_http_connections_refused_total",
			Help: "Client connections closed at once because the connection limit was reached.",
		}),
	}
	l.max.Store(int64(max))
	collectors := []prometheus.Collector{
		l.refused,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "onair_http_connections",
			Help: "Client connections open on the public HTTP listeners.",
		}, func() float64 { return float64(l.open.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "onair_http_connections_max",
			Help: "The connection limit of the public HTTP listeners.",
		}, func() float64 { return float64(l.max.Load()) }),
	}
	if reg != nil {
		for _, c := range collectors {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("connection limit metrics: %w", err)
			}
		}
	}
	return l, nil
}

// SetMax changes the limit; connections already open above it stay.
func (l *connLimiter) SetMax(max int) { l.max.Store(int64(max)) }

// Listener wraps ln so its connections count against the limit.
func (l *connLimiter) Listener(ln net.Listener) net.Listener {
	return &limitedListener{Listener: ln, limiter: l}
}

// acquire takes a slot; false means the limit is reached.
func (l *connLimiter) acquire() bool {
	if l.open.Add(1) > l.max.Load() {
		l.open.Add(-1)
		return false
	}
	return true
}

func (l *connLimiter) release() { l.open.Add(-1) }

// refuse closes c with a reset, counts it and logs at most once per
// refusalLogEvery.
func (l *connLimiter) refuse(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // RST: the client sees the refusal at once
	}
	_ = c.Close()
	l.refused.Inc()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sinceLog++
	if now := time.Now(); now.Sub(l.lastLog) >= refusalLogEvery {
		l.log.Warn("connection limit reached: refusing new connections", "max_conns", l.max.Load(), "refused", l.sinceLog,
			"remote", c.RemoteAddr().String())
		l.lastLog, l.sinceLog = now, 0
	}
}

// limitedListener counts its accepted connections against a connLimiter.
type limitedListener struct {
	net.Listener
	limiter *connLimiter
}

// Accept returns the next connection within the limit, refusing the ones
// beyond it.
func (ln *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if ln.limiter.acquire() {
			return &limitedConn{Conn: c, release: ln.limiter.release}, nil
		}
		ln.limiter.refuse(c)
	}
}

// limitedConn gives its slot back once, on its first Close.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
