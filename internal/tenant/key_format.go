package tenant

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// Key format: onair_<keyid>_<secret>.
const (
	keyPrefix    = "onair_"
	keyIDBytes   = 8  // 16 hex digits: collisions are retried, never silent
	secretBytes  = 32 // 256 bits: no guessing, so a fast hash is enough
	keyIDLen     = 2 * keyIDBytes
	secretLen    = 43 // unpadded base64 of 32 bytes
	presentedLen = len(keyPrefix) + keyIDLen + 1 + secretLen
)

// hashAlg names how key records' hashes are computed, so the scheme can
// change later without guessing.
const hashAlg = "sha256-v1"

// secretEncoding is strict: one spelling per secret, so a key's text is
// canonical and a record can only be matched by its own key.
var secretEncoding = base64.RawURLEncoding.Strict()

// formatKey renders the presented form of a key.
func formatKey(id string, secret []byte) string {
	return keyPrefix + id + "_" + secretEncoding.EncodeToString(secret)
}

// newKeyMaterial draws a fresh key id and secret from crypto/rand.
func newKeyMaterial() (id string, secret []byte) {
	b := make([]byte, keyIDBytes+secretBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:keyIDBytes]), b[keyIDBytes:]
}

// parseKey splits a presented key into its id and secret. Errors wrap
// ErrMalformed and never contain the input: a mistyped key is still
// mostly a secret.
func parseKey(s string) (id string, secret []byte, err error) {
	if len(s) != presentedLen {
		return "", nil, fmt.Errorf("%d characters, want %d (onair_<16 hex>_<43 base64url>): %w", len(s), presentedLen, ErrMalformed)
	}
	if s[:len(keyPrefix)] != keyPrefix {
		return "", nil, fmt.Errorf("does not start with %q: %w", keyPrefix, ErrMalformed)
	}
	id = s[len(keyPrefix) : len(keyPrefix)+keyIDLen]
	if !validKeyID(id) {
		return "", nil, fmt.Errorf("key id is not 16 lowercase hex digits: %w", ErrMalformed)
	}
	if s[len(keyPrefix)+keyIDLen] != '_' {
		return "", nil, fmt.Errorf("no '_' after the key id: %w", ErrMalformed)
	}
	secret, err = secretEncoding.DecodeString(s[len(keyPrefix)+keyIDLen+1:])
	if err != nil || len(secret) != secretBytes {
		return "", nil, fmt.Errorf("key %s: secret is not 32 bytes of unpadded base64url: %w", id, ErrMalformed)
	}
	return id, secret, nil
}

// KeyID returns the id part of a presented key, for logs and audit: it is
// not secret. Errors wrap ErrMalformed.
func KeyID(presented string) (string, error) {
	id, _, err := parseKey(presented)
	return id, err
}

func validKeyID(id string) bool {
	if len(id) != keyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// hashSecret is what a key record stores instead of the secret:
// SHA-256 over a label, the key id and the secret.
//
// A plain fast hash is the right tool here. Slow password hashes (bcrypt,
// argon2) exist to make guessing low-entropy passwords expensive; a 256-bit
// random secret cannot be guessed at any hash speed, and a slow hash would
// cost every API request milliseconds. A server pepper (HMAC) would add a
// second secret to manage, and lose every key if it were lost, for no gain
// against an attacker who already cannot invert SHA-256. The key id is
// hashed in so a record's hash verifies only its own key.
func hashSecret(id string, secret []byte) []byte {
	h := sha256.New()
	h.Write([]byte("onair api key v1\x00"))
	h.Write([]byte(id))
	h.Write([]byte{0})
	h.Write(secret)
	return h.Sum(nil)
}

// hashesEqual compares in constant time, so response timing tells nothing
// about how much of a guessed secret's hash was right.
func hashesEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
