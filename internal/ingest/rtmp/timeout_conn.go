package rtmp

import (
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// timeoutConn is the connection as gortmplib sees it. Once streaming, every
// read and write gets a fresh deadline (a read that waits longer than the
// timeout is a stall), and received bytes are counted. Used by one
// goroutine only.
type timeoutConn struct {
	net.Conn
	timeout time.Duration      // 0: the caller's fixed deadline applies (handshake)
	bytes   prometheus.Counter // nil until the channel is known
}

// stream switches from the handshake deadline to per-operation deadlines.
func (c *timeoutConn) stream(timeout time.Duration, bytes prometheus.Counter) {
	c.timeout, c.bytes = timeout, bytes
}

func (c *timeoutConn) Read(p []byte) (int, error) {
	if c.timeout > 0 {
		if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
			return 0, err
		}
	}
	n, err := c.Conn.Read(p)
	if n > 0 && c.bytes != nil {
		c.bytes.Add(float64(n))
	}
	return n, err
}

func (c *timeoutConn) Write(p []byte) (int, error) {
	if c.timeout > 0 {
		if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
			return 0, err
		}
	}
	return c.Conn.Write(p)
}
