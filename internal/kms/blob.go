package kms

import (
	"fmt"
)

const (
	blobMagic   = "okms"
	blobVersion = 1
	// NonceSize is the AES-GCM nonce length in blobs, in bytes.
	NonceSize = 12
	// TagSize is the AES-GCM tag length in blobs, in bytes.
	TagSize = 16
	// maxBackend and maxKEKID bound the header's names.
	maxBackend = 32
	maxKEKID   = 64
)

// Blob is a parsed blob (see the package documentation for the format).
type Blob struct {
	// Backend names the KMS that made the blob.
	Backend string
	// KEKID names the key-encryption key it was sealed under.
	KEKID string
	// Nonce is the AES-GCM nonce, NonceSize bytes.
	Nonce []byte
	// Sealed is the ciphertext followed by the TagSize-byte tag.
	Sealed []byte
}

// ParseBlob parses a blob without decrypting it. The returned slices
// alias b. Errors wrap ErrMalformed.
func ParseBlob(b []byte) (Blob, error) {
	if len(b) < len(blobMagic)+1 || string(b[:len(blobMagic)]) != blobMagic {
		return Blob{}, fmt.Errorf("kms: not a blob (no %q header): %w", blobMagic, ErrMalformed)
	}
	if v := b[len(blobMagic)]; v != blobVersion {
		return Blob{}, fmt.Errorf("kms: blob version %d, this build reads version %d: %w", v, blobVersion, ErrMalformed)
	}
	rest := b[len(blobMagic)+1:]
	field := func(what string) ([]byte, error) {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return nil, fmt.Errorf("kms: blob truncated in its %s: %w", what, ErrMalformed)
		}
		f := rest[1 : 1+int(rest[0])]
		rest = rest[1+int(rest[0]):]
		return f, nil
	}
	backend, err := field("backend")
	if err != nil {
		return Blob{}, err
	}
	if !ValidBackend(string(backend)) {
		return Blob{}, fmt.Errorf("kms: blob backend name is not 1-%d of [a-z0-9]: %w", maxBackend, ErrMalformed)
	}
	kek, err := field("KEK id")
	if err != nil {
		return Blob{}, err
	}
	if !ValidKEKID(string(kek)) {
		return Blob{}, fmt.Errorf("kms: blob KEK id is not 1-%d of [A-Za-z0-9._-]: %w", maxKEKID, ErrMalformed)
	}
	nonce, err := field("nonce")
	if err != nil {
		return Blob{}, err
	}
	if len(nonce) != NonceSize {
		return Blob{}, fmt.Errorf("kms: blob nonce of %d bytes, want %d: %w", len(nonce), NonceSize, ErrMalformed)
	}
	if len(rest) < TagSize || len(rest) > MaxPlaintext+TagSize {
		return Blob{}, fmt.Errorf("kms: blob ciphertext of %d bytes, want %d to %d: %w", len(rest), TagSize, MaxPlaintext+TagSize, ErrMalformed)
	}
	return Blob{Backend: string(backend), KEKID: string(kek), Nonce: nonce, Sealed: rest}, nil
}

// Marshal encodes the blob. It fails on names or lengths ParseBlob would
// refuse.
func (b Blob) Marshal() ([]byte, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	out := b.appendHeader(make([]byte, 0, b.headerLen()+1+len(b.Nonce)+len(b.Sealed)))
	out = append(out, byte(len(b.Nonce)))
	out = append(out, b.Nonce...)
	return append(out, b.Sealed...), nil
}

// AdditionalData returns the GCM additional data for the blob: its header
// without the nonce, then aad.
func (b Blob) AdditionalData(aad []byte) []byte {
	out := b.appendHeader(make([]byte, 0, b.headerLen()+len(aad)))
	return append(out, aad...)
}

func (b Blob) headerLen() int { return len(blobMagic) + 1 + 1 + len(b.Backend) + 1 + len(b.KEKID) }

func (b Blob) appendHeader(out []byte) []byte {
	out = append(out, blobMagic...)
	out = append(out, blobVersion, byte(len(b.Backend)))
	out = append(out, b.Backend...)
	out = append(out, byte(len(b.KEKID)))
	return append(out, b.KEKID...)
}

func (b Blob) check() error {
	switch {
	case !ValidBackend(b.Backend):
		return fmt.Errorf("kms: backend name %q is not 1-%d of [a-z0-9]", b.Backend, maxBackend)
	case !ValidKEKID(b.KEKID):
		return fmt.Errorf("kms: KEK id %q is not 1-%d of [A-Za-z0-9._-]", b.KEKID, maxKEKID)
	case len(b.Nonce) != NonceSize:
		return fmt.Errorf("kms: nonce of %d bytes, want %d", len(b.Nonce), NonceSize)
	case len(b.Sealed) < TagSize || len(b.Sealed) > MaxPlaintext+TagSize:
		return fmt.Errorf("kms: ciphertext of %d bytes, want %d to %d", len(b.Sealed), TagSize, MaxPlaintext+TagSize)
	}
	return nil
}

// ValidKEKID reports whether id is a valid KEK id: 1 to 64 characters of
// [A-Za-z0-9._-].
func ValidKEKID(id string) bool {
	if id == "" || len(id) > maxKEKID {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidBackend reports whether name is a valid backend name: 1 to 32
// characters of [a-z0-9].
func ValidBackend(name string) bool {
	if name == "" || len(name) > maxBackend {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
