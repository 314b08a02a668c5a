package kms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"strings"
)

// LocalName is the local backend's name in blobs.
const LocalName = "local"

// Local is the KMS backed by a Keyring in process memory. It is immutable
// and safe for concurrent use; to reload a keyring, build a new Local.
type Local struct {
	current string
	ids     []string
	aead    map[string]cipher.AEAD
}

var _ KMS = (*Local)(nil)

// NewLocal builds a Local from a validated keyring.
func NewLocal(r Keyring) (*Local, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	l := &Local{current: r.Current, ids: r.IDs(), aead: make(map[string]cipher.AEAD, len(r.KEKs))}
	for _, k := range r.KEKs {
		block, err := aes.NewCipher(k.Key)
		if err != nil {
			return nil, fmt.Errorf("kms: KEK %q: %w", k.ID, err)
		}
		gcm, err := cipher.NewGCM(block) // 12-byte nonce, 16-byte tag
		if err != nil {
			return nil, fmt.Errorf("kms: KEK %q: %w", k.ID, err)
		}
		l.aead[k.ID] = gcm
	}
	return l, nil
}

// LocalFromEnv builds a Local from the environment form of a keyring
// (ParseKeyringEnv), typically the value of ONAIR_KEK.
func LocalFromEnv(value string) (*Local, error) {
	r, err := ParseKeyringEnv(value)
	if err != nil {
		return nil, err
	}
	return NewLocal(r)
}

// Name returns LocalName.
func (l *Local) Name() string { return LocalName }

// Current returns the id of the KEK that seals new blobs.
func (l *Local) Current() string { return l.current }

// IDs returns the ids of every KEK held, in keyring order.
func (l *Local) IDs() []string { return append([]string(nil), l.ids...) }

// Encrypt seals plaintext under the current KEK.
func (l *Local) Encrypt(ctx context.Context, plaintext, aad []byte) ([]byte, error) {
	if err := CheckPlaintext(plaintext); err != nil {
		return nil, err
	}
	b := Blob{Backend: LocalName, KEKID: l.current, Nonce: make([]byte, NonceSize)}
	if _, err := rand.Read(b.Nonce); err != nil {
		return nil, fmt.Errorf("kms: nonce: %w", err)
	}
	b.Sealed = l.aead[l.current].Seal(nil, b.Nonce, plaintext, b.AdditionalData(aad))
	return b.Marshal()
}

// Decrypt opens a blob sealed under any KEK of the keyring.
func (l *Local) Decrypt(ctx context.Context, blob, aad []byte) ([]byte, error) {
	b, err := ParseBlob(blob)
	if err != nil {
		return nil, err
	}
	if b.Backend != LocalName {
		return nil, WrongBackendError(b.Backend, LocalName)
	}
	gcm, ok := l.aead[b.KEKID]
	if !ok {
		return nil, UnknownKEKError(b.KEKID, "the keyring (it holds "+quoteList(l.ids)+")")
	}
	plain, err := gcm.Open(nil, b.Nonce, b.Sealed, b.AdditionalData(aad))
	if err != nil {
		return nil, DecryptError(b.KEKID)
	}
	return plain, nil
}

// Rewrap re-encrypts a blob under the current KEK.
func (l *Local) Rewrap(ctx context.Context, blob, aad []byte) ([]byte, error) {
	return Rewrap(ctx, l, blob, aad)
}

// GenerateDataKey returns a random data key and the key sealed with aad.
func (l *Local) GenerateDataKey(ctx context.Context, aad []byte) (plain, wrapped []byte, err error) {
	return GenerateDataKey(ctx, l, aad)
}

func quoteList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return strings.Join(q, ", ")
}
