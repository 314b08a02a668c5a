package signing

import (
	"crypto/ed25519"
	"fmt"
	"slices"
)

// KeySet is an immutable set of Ed25519 public keys by key ID. Rotation
// replaces a Verifier's whole set (Verifier.SetKeys), never edits one.
type KeySet struct {
	keys map[string]ed25519.PublicKey
}

// NewKeySet returns a key set holding copies of keys. Every key ID must
// satisfy ValidKid and every key be ed25519.PublicKeySize bytes. An empty
// map gives an empty set, which refuses every token with ErrUnknownKey.
func NewKeySet(keys map[string]ed25519.PublicKey) (*KeySet, error) {
	ks := &KeySet{keys: make(map[string]ed25519.PublicKey, len(keys))}
	for kid, pub := range keys {
		if !ValidKid(kid) {
			return nil, fmt.Errorf("new key set: key id %q: want 1-%d characters of A-Z a-z 0-9 - _", kid, maxKid)
		}
		if len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("new key set: key %q: %d bytes, want an Ed25519 public key (%d)", kid, len(pub), ed25519.PublicKeySize)
		}
		ks.keys[kid] = slices.Clone(pub)
	}
	return ks, nil
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

// Key returns the public key for kid.
func (ks *KeySet) Key(kid string) (ed25519.PublicKey, bool) {
	pub, ok := ks.keys[kid]
	return pub, ok
}
