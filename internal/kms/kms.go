package kms

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
)

// MaxPlaintext is the largest plaintext Encrypt accepts, in bytes. A KMS
// seals keys, not content: bulk data is encrypted with a data key from
// GenerateDataKey.
const MaxPlaintext = 64 << 10

// DataKeySize is the length of the data keys GenerateDataKey returns
// (AES-256), in bytes.
const DataKeySize = 32

// KMS seals secrets under a key-encryption key. Implementations are safe
// for concurrent use.
type KMS interface {
	// Name is the backend name written in its blobs ("local", "pkcs11").
	Name() string
	// Current is the id of the KEK that seals new blobs.
	Current() string
	// Encrypt seals plaintext (at most MaxPlaintext bytes) under the
	// current KEK; the blob decrypts only with the same aad.
	Encrypt(ctx context.Context, plaintext, aad []byte) ([]byte, error)
	// Decrypt opens a blob made by this backend with any KEK it still
	// holds. Errors wrap ErrMalformed, ErrWrongBackend, ErrUnknownKEK or
	// ErrDecrypt.
	Decrypt(ctx context.Context, blob, aad []byte) ([]byte, error)
	// Rewrap re-encrypts a blob under the current KEK (same aad).
	Rewrap(ctx context.Context, blob, aad []byte) ([]byte, error)
	// GenerateDataKey returns a random DataKeySize-byte key and the same
	// key sealed with aad.
	GenerateDataKey(ctx context.Context, aad []byte) (plain, wrapped []byte, err error)
}

// Sentinel errors that Decrypt wraps.
var (
	// ErrMalformed: the bytes are not a blob of a known version.
	ErrMalformed = errors.New("malformed blob")
	// ErrWrongBackend: the blob was made by another backend.
	ErrWrongBackend = errors.New("blob from another backend")
	// ErrUnknownKEK: the blob's KEK id is not held by this KMS.
	ErrUnknownKEK = errors.New("unknown KEK")
	// ErrDecrypt: authentication failed: the blob was altered, the AAD is
	// not the one it was sealed with, or the KEK under its id is another key.
	ErrDecrypt = errors.New("blob does not authenticate")
)

// UnknownKEKError builds the error for a blob whose KEK id is not held;
// where names the holder ("the keyring", "token \"onair\"").
func UnknownKEKError(id, where string) error {
	return fmt.Errorf("kms: blob was encrypted with KEK id %q which is not in %s: %w", id, where, ErrUnknownKEK)
}

// DecryptError builds the error for a blob that fails authentication.
func DecryptError(id string) error {
	return fmt.Errorf("kms: blob under KEK id %q: tampered, sealed for another use (AAD), or the KEK with that id is another key: %w", id, ErrDecrypt)
}

// WrongBackendError builds the error for a blob of another backend.
func WrongBackendError(blobBackend, name string) error {
	return fmt.Errorf("kms: blob was made by backend %q, this KMS is %q: %w", blobBackend, name, ErrWrongBackend)
}

// CheckPlaintext refuses plaintexts larger than MaxPlaintext.
func CheckPlaintext(plaintext []byte) error {
	if len(plaintext) > MaxPlaintext {
		return fmt.Errorf("kms: plaintext of %d bytes exceeds %d (seal a data key instead)", len(plaintext), MaxPlaintext)
	}
	return nil
}

// GenerateDataKey implements KMS.GenerateDataKey for any backend: a
// random key from crypto/rand, sealed by k.Encrypt.
func GenerateDataKey(ctx context.Context, k KMS, aad []byte) (plain, wrapped []byte, err error) {
	plain = make([]byte, DataKeySize)
	if _, err := rand.Read(plain); err != nil {
		return nil, nil, fmt.Errorf("kms: data key: %w", err)
	}
	wrapped, err = k.Encrypt(ctx, plain, aad)
	if err != nil {
		return nil, nil, fmt.Errorf("kms: seal data key: %w", err)
	}
	return plain, wrapped, nil
}

// Rewrap implements KMS.Rewrap for any backend: Decrypt then Encrypt.
func Rewrap(ctx context.Context, k KMS, blob, aad []byte) ([]byte, error) {
	plain, err := k.Decrypt(ctx, blob, aad)
	if err != nil {
		return nil, err
	}
	out, err := k.Encrypt(ctx, plain, aad)
	clear(plain)
	if err != nil {
		return nil, fmt.Errorf("kms: rewrap: %w", err)
	}
	return out, nil
}
