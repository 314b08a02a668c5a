package ingest

import (
	"errors"
	"log/slog"
	"time"
	"unicode/utf8"
)

// ErrEnded marks the normal end of a connection: the broadcaster
// disconnected, or the server shut down. Protocol layers wrap it with the
// detail.
var ErrEnded = errors.New("connection ended")

// Conn is what Finish needs to know about one ended connection.
type Conn struct {
	Protocol string
	Remote   string
	Channel  string   // "" when the key was never routed
	Session  *Session // nil before a session was created
	Started  time.Time
}

// Finish closes the connection's Session (readers see EventEnd), then logs
// its end in exactly one line and counts it unless it ended normally after
// publishing. err is why it ended: nil or ErrEnded for a normal end.
func Finish(log *slog.Logger, m *Metrics, c Conn, err error) {
	published := false
	if c.Session != nil {
		published = c.Session.Published()
		c.Session.Close()
	}
	attrs := []any{"remote", c.Remote}
	if c.Channel != "" {
		attrs = append(attrs, "channel", c.Channel)
	}
	if published {
		attrs = append(attrs, "duration", time.Since(c.Started).Round(time.Millisecond))
		if n := c.Session.Dropped(); n > 0 {
			attrs = append(attrs, "dropped_backwards", n)
		}
	}
	if err == nil || errors.Is(err, ErrEnded) {
		reason := "ended"
		if err != nil {
			reason = err.Error()
		}
		if published {
			log.Info("publish ended", append(attrs, "reason", reason)...)
			return
		}
		err = Rejectf(ResultError, "disconnected before publishing (%s)", reason)
	}
	r := ResultOf(err)
	m.Count(c.Protocol, r)
	msg := "ingest connection refused"
	if published {
		msg = "ingest session cut"
	}
	log.Warn(msg, append(attrs, "result", string(r), "reason", err.Error())...)
}

// RedactKey returns a stream key fit for logs: its first two characters
// (none for keys of four or fewer), never the secret itself.
func RedactKey(key string) string {
	if utf8.RuneCountInString(key) <= 4 {
		return "***"
	}
	return string([]rune(key)[:2]) + "***"
}
