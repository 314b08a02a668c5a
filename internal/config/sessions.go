package config

import "time"

// Sessions configures viewer sessions: one is recorded for every viewer
// token the API issues, refreshed by playback and license requests,
// listed and revoked through the API, and deleted TTL after its last
// refresh together with the viewer's personal data (stored encrypted).
type Sessions struct {
	// Enabled records sessions. Default true. Off: tokens carry a session
	// id but nothing is stored and nothing can be revoked.
	Enabled bool `yaml:"enabled"`
	// TTL is how long an idle session lives, and the longest viewer token
	// the API issues (so a revoked session outlives its tokens). Default
	// 6h, at least 1m.
	TTL time.Duration `yaml:"ttl"`
}

// DefaultSessions returns the Sessions section's defaults.
func DefaultSessions() Sessions { return Sessions{Enabled: true, TTL: 6 * time.Hour} }

func (s *Sessions) validate(bad func(format string, a ...any)) {
	if s.TTL < time.Minute {
		bad("sessions.ttl: %s: want at least 1m", s.TTL)
	}
}
