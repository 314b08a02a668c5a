package license

import (
	"crypto/ed25519"
	"fmt"
	"slices"

	"onair/internal/signing"
)

// KeySet is an immutable set of Ed25519 public keys by key ID (the JWT
// kid header). Rotation replaces a Verifier's whole set
// (Verifier.SetKeys), never edits one.
type KeySet struct {
	keys map[string]ed25519.PublicKey
}

// NewKeySet returns a key set holding copies of keys. Key IDs follow
// internal/signing's grammar (signing.ValidKid: 1-32 of A-Z a-z 0-9 - _);
// every key must be ed25519.PublicKeySize bytes. An empty map gives an
// empty set, which refuses every token with ErrUnknownKid.
func NewKeySet(keys map[string]ed25519.PublicKey) (*KeySet, error) {
	ks := &KeySet{keys: make(map[string]ed25519.PublicKey, len(keys))}
	for kid, pub := range keys {
		if !signing.ValidKid(kid) {
			return nil, fmt.Errorf("new key set: key id %q: want 1-32 characters of A-Z a-z 0-9 - _", kid)
		}
		if len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("new key set: key %q: %d bytes, want an Ed25519 public key (%d)", kid, len(pub), ed25519.PublicKeySize)
		}
		ks.keys[kid] = slices.Clone(pub)
	}
	return ks, nil
}

// LoadKeySet reads one PKIX public key PEM file per key ID (kid -> path),
// as `openssl pkey -pubout` writes them, with signing.LoadPublicKey. The
// same files (and IDs) can serve internal/signing's key set: onair signs
// its playback tokens and its viewer tokens with one key pair if it likes.
func LoadKeySet(files map[string]string) (*KeySet, error) {
	keys := make(map[string]ed25519.PublicKey, len(files))
	for kid, path := range files {
		pub, err := signing.LoadPublicKey(path)
		if err != nil {
			return nil, fmt.Errorf("load key set: key %q: %w", kid, err)
		}
		keys[kid] = pub
	}
	return NewKeySet(keys)
}

// Kids returns the set's key IDs, sorted.
func (ks *KeySet) Kids() []string {
	kids := make([]string, 0, len(ks.keys))
	for kid := range ks.keys {
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	return kids
}

// Len returns the number of keys in the set.
func (ks *KeySet) Len() int { return len(ks.keys) }

// key returns the public key for kid.
func (ks *KeySet) key(kid string) (ed25519.PublicKey, bool) {
	pub, ok := ks.keys[kid]
	return pub, ok
}
