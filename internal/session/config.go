package session

import (
	"fmt"
	"time"
)

// Defaults.
const (
	DefaultTTL            = 6 * time.Hour
	DefaultBucket         = "onair_sessions"
	DefaultKeyBucket      = "onair_session_keys"
	DefaultLeeway         = 5 * time.Minute
	DefaultTouchCacheSize = 1 << 16
)

// markerTTL is how long a bucket keeps the marker JetStream writes when a
// key expires or is purged (the event edges' watchers see); markers are
// only needed for that event, so they go soon.
const markerTTL = time.Minute

// keyHorizon is how long past its day's start a data key is kept on top
// of the TTL: a live record was last written less than TTL ago, under the
// key of that day (up to 24 h old then); 24 h more covers clock skew.
const keyHorizon = 48 * time.Hour

// Config tunes a Store; the zero value is ready to use.
type Config struct {
	// TTL is the idle life of a session: it expires TTL after its last
	// write (Create, Touch, Revoke). Whole seconds (rounded up), at least
	// 1 s. Default 6 h.
	TTL time.Duration
	// Bucket is the JetStream KV bucket of sessions. Default
	// "onair_sessions".
	Bucket string
	// KeyBucket is the KV bucket of wrapped data keys (no TTL). Default
	// "onair_session_keys".
	KeyBucket string
	// Replicas of both buckets on a NATS cluster. Default 1.
	Replicas int
	// Leeway is how long after its token's expiry a revoked session is
	// kept, so edges refuse the token for as long as any verifier (with its
	// own clock leeway) could accept it. Default 5 min.
	Leeway time.Duration
	// TouchCacheSize bounds the sessions Touch remembers (to refresh each
	// at most once per TTL/8). Default 65536.
	TouchCacheSize int
	// Now is the clock for session times and data-key days. Default
	// time.Now. Expiry itself is JetStream's, on the server's clock.
	Now func() time.Time
}

// withDefaults fills defaults and validates.
func (c Config) withDefaults() (Config, error) {
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.Bucket == "" {
		c.Bucket = DefaultBucket
	}
	if c.KeyBucket == "" {
		c.KeyBucket = DefaultKeyBucket
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.Leeway == 0 {
		c.Leeway = DefaultLeeway
	}
	if c.TouchCacheSize == 0 {
		c.TouchCacheSize = DefaultTouchCacheSize
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	switch {
	case c.TTL < time.Second:
		return c, fmt.Errorf("session config: ttl %v is under 1s (JetStream message TTLs are whole seconds)", c.TTL)
	case c.Replicas < 0 || c.Leeway < 0 || c.TouchCacheSize < 0:
		return c, fmt.Errorf("session config: replicas %d, leeway %v and touch cache size %d must not be negative", c.Replicas, c.Leeway, c.TouchCacheSize)
	case c.Bucket == c.KeyBucket:
		return c, fmt.Errorf("session config: bucket and key bucket are both %q", c.Bucket)
	}
	c.TTL = roundUpSecond(c.TTL)
	return c, nil
}

// roundUpSecond rounds d up to whole seconds (JetStream's TTL unit).
func roundUpSecond(d time.Duration) time.Duration {
	if r := d % time.Second; r != 0 {
		d += time.Second - r
	}
	return d
}
