package config

import "time"

// Signing configures the key `onair serve` signs playback tokens with.
type Signing struct {
	// KeyFile is an Ed25519 private key (PKCS #8 PEM, as `openssl genpkey
	// -algorithm ed25519` writes). "" uses {data_dir}/signing/ed25519.pem,
	// made (with its public key beside it) on first start.
	KeyFile string `yaml:"key_file"`
	// KeyID names the key in tokens, for rotation. Default "k1".
	KeyID string `yaml:"key_id"`
	// TokenTTL is the lifetime of tokens issued without one. Default 1h.
	TokenTTL time.Duration `yaml:"token_ttl"`
}

// DefaultSigning returns the Signing section's defaults.
func DefaultSigning() Signing { return Signing{KeyID: "k1", TokenTTL: time.Hour} }

func (s *Signing) validate(bad func(format string, a ...any)) {
	if s.KeyID == "" || len(s.KeyID) > 32 {
		bad("signing.key_id: %q must be 1-32 characters", s.KeyID)
	}
	if s.TokenTTL < time.Second || s.TokenTTL > 30*24*time.Hour {
		bad("signing.token_ttl: %v out of range [1s, 720h]", s.TokenTTL)
	}
}
