package license

import "onair/internal/signing"

// KeySet is the set of Ed25519 public keys by key ID (the JWT kid header)
// that a Verifier accepts: internal/signing's, so playback tokens and
// viewer tokens can share key files and IDs. Rotation replaces a
// Verifier's whole set (Verifier.SetKeys), never edits one.
type KeySet = signing.KeySet

// NewKeySet returns a key set holding copies of keys (signing.NewKeySet:
// key IDs 1-32 of A-Z a-z 0-9 - _, Ed25519 keys). An empty set refuses
// every token with ErrUnknownKid.
var NewKeySet = signing.NewKeySet

// LoadKeySet reads one PKIX public key PEM file per key ID (kid -> path),
// as `openssl pkey -pubout` writes them (signing.LoadKeySet).
var LoadKeySet = signing.LoadKeySet
