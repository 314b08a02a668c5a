package ingest

import (
	"errors"
	"time"
)

// Limits bound one protocol server's connections. RTMP and SRT embed them
// in their configs.
type Limits struct {
	// ReadTimeout cuts a publisher that sends no data for this long
	// (default 10 s).
	ReadTimeout time.Duration
	// HandshakeTimeout bounds the time from accept until the publish is
	// known: the RTMP publish command, or the MPEG-TS program and its
	// track configs for SRT (default 5 s).
	HandshakeTimeout time.Duration
	// MaxConns bounds concurrent connections; more are closed at once
	// (default 256).
	MaxConns int
	// MaxWait and MaxUnits bound the buffer before the first keyframe
	// (defaults DefaultMaxWait, DefaultMaxUnits, applied by Session).
	MaxWait  time.Duration
	MaxUnits int
}

// WithDefaults returns l with zero fields defaulted, or an error for a
// negative one.
func (l Limits) WithDefaults() (Limits, error) {
	if l.ReadTimeout < 0 || l.HandshakeTimeout < 0 || l.MaxConns < 0 || l.MaxWait < 0 || l.MaxUnits < 0 {
		return l, errors.New("timeouts and limits must not be negative")
	}
	if l.ReadTimeout == 0 {
		l.ReadTimeout = 10 * time.Second
	}
	if l.HandshakeTimeout == 0 {
		l.HandshakeTimeout = 5 * time.Second
	}
	if l.MaxConns == 0 {
		l.MaxConns = 256
	}
	return l, nil
}
