package signing

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// PEM block types: PKCS #8 (RFC 5208, RFC 8410 for Ed25519) for private
// keys, as `openssl genpkey -algorithm ed25519` writes; PKIX
// SubjectPublicKeyInfo (RFC 5280) for public keys, as `openssl pkey
// -pubout` writes.
const (
	pemPrivate = "PRIVATE KEY"
	pemPublic  = "PUBLIC KEY"
)

// ParsePrivateKeyPEM parses an Ed25519 private key from the first PEM
// block of data, which must be a PKCS #8 "PRIVATE KEY".
func ParsePrivateKeyPEM(data []byte) (ed25519.PrivateKey, error) {
	der, err := pemBlock(data, pemPrivate)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("parse private key: %T is not an Ed25519 key", k)
	}
	return priv, nil
}

// ParsePublicKeyPEM parses an Ed25519 public key from the first PEM block
// of data, which must be a PKIX "PUBLIC KEY".
func ParsePublicKeyPEM(data []byte) (ed25519.PublicKey, error) {
	der, err := pemBlock(data, pemPublic)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("parse public key: %T is not an Ed25519 key", k)
	}
	return pub, nil
}

// pemBlock returns the bytes of data's first PEM block, which must be of
// type typ.
func pemBlock(data []byte, typ string) ([]byte, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("no PEM block")
	}
	if b.Type != typ {
		return nil, fmt.Errorf("PEM block is %q, want %q", b.Type, typ)
	}
	return b.Bytes, nil
}

// LoadPrivateKey reads an Ed25519 private key from a PEM file (see
// ParsePrivateKeyPEM).
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load private key: %w", err)
	}
	k, err := ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// LoadPublicKey reads an Ed25519 public key from a PEM file (see
// ParsePublicKeyPEM).
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load public key: %w", err)
	}
	k, err := ParsePublicKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// LoadKeySet reads one public key PEM file per key ID (kid -> path) into
// a key set.
func LoadKeySet(files map[string]string) (*KeySet, error) {
	keys := make(map[string]ed25519.PublicKey, len(files))
	for kid, path := range files {
		pub, err := LoadPublicKey(path)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", kid, err)
		}
		keys[kid] = pub
	}
	return NewKeySet(keys)
}

// MarshalPrivateKeyPEM encodes key as a PKCS #8 "PRIVATE KEY" PEM block.
func MarshalPrivateKeyPEM(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivate, Bytes: der}), nil
}

// MarshalPublicKeyPEM encodes key as a PKIX "PUBLIC KEY" PEM block.
func MarshalPublicKeyPEM(key ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublic, Bytes: der}), nil
}

// GenerateKeyFiles makes a new Ed25519 key pair from crypto/rand and
// writes the private key to privPath (mode 0600) and the public key to
// pubPath (mode 0644), both PEM. Neither file may exist already: a key is
// never overwritten. If the public key cannot be written, the private key
// file is removed again.
func GenerateKeyFiles(privPath, pubPath string) (ed25519.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	privPEM, err := MarshalPrivateKeyPEM(priv)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	pubPEM, err := MarshalPublicKeyPEM(pub)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	if err := writeNew(privPath, privPEM, 0o600); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	if err := writeNew(pubPath, pubPEM, 0o644); err != nil {
		os.Remove(privPath)
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return pub, nil
}

// writeNew writes data to a file that must not exist yet.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}
