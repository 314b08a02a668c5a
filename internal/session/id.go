package session

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"onair/internal/live"
)

// MaxIDLen is the longest session id, in bytes.
const MaxIDLen = 64

// noTenant stands for the empty tenant in KV keys: NATS subject tokens
// cannot be empty, and "_" is not a valid tenant id.
const noTenant = "_"

// ValidID reports whether id matches ^[A-Za-z0-9_-]{1,64}$: safe in a
// NATS subject token, a URL path segment and a signed token's session
// member.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// NewID returns a random session id: 16 bytes from crypto/rand in
// unpadded base64url (22 characters).
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validTenant reports whether tenant is "" (no tenant) or a tenant id
// (the channel name rule, ^[a-z0-9][a-z0-9-]{0,62}$).
func validTenant(tenant string) bool {
	return tenant == "" || live.ValidChannelName(tenant)
}

// checkChannel validates a tenant and channel; the error wraps
// ErrInvalid.
func checkChannel(tenant, channel string) error {
	switch {
	case !validTenant(tenant):
		return fmt.Errorf("tenant %q is not empty or ^[a-z0-9][a-z0-9-]{0,62}$: %w", tenant, ErrInvalid)
	case !live.ValidChannelName(channel):
		return fmt.Errorf("channel %q is not ^[a-z0-9][a-z0-9-]{0,62}$: %w", channel, ErrInvalid)
	}
	return nil
}

// checkKey validates the three parts of a session's address; the error
// wraps ErrInvalid.
func checkKey(tenant, channel, id string) error {
	if err := checkChannel(tenant, channel); err != nil {
		return err
	}
	if !ValidID(id) {
		return fmt.Errorf("session id %q is not ^[A-Za-z0-9_-]{1,64}$: %w", id, ErrInvalid)
	}
	return nil
}

// kvKey is the sessions bucket key "<tenant>.<channel>.<id>", with "_"
// for the empty tenant. The parts must be valid (checkKey).
func kvKey(tenant, channel, id string) string {
	if tenant == "" {
		tenant = noTenant
	}
	return tenant + "." + channel + "." + id
}

// channelFilter is the KV key filter that matches one channel's sessions
// and nothing else (ids hold no '.').
func channelFilter(tenant, channel string) string {
	if tenant == "" {
		tenant = noTenant
	}
	return tenant + "." + channel + ".*"
}

// parseKey is the inverse of kvKey; ok is false for any key kvKey cannot
// produce from valid parts.
func parseKey(key string) (tenant, channel, id string, ok bool) {
	tenant, rest, ok1 := strings.Cut(key, ".")
	channel, id, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 {
		return "", "", "", false
	}
	if tenant == noTenant {
		tenant = ""
	} else if tenant == "" {
		return "", "", "", false
	}
	if checkKey(tenant, channel, id) != nil {
		return "", "", "", false
	}
	return tenant, channel, id, true
}
