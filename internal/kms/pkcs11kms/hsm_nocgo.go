//go:build !cgo

package pkcs11kms

import (
	"context"
	"errors"
	"log/slog"

	"onair/internal/kms"
)

// errNoCgo is returned by everything in a build without cgo.
var errNoCgo = errors.New("pkcs11: this onair was built without cgo (CGO_ENABLED=0); the PKCS#11 KMS needs a cgo build")

// HSM is the PKCS#11 KMS; without cgo it cannot be opened.
type HSM struct{}

var _ kms.KMS = (*HSM)(nil)

// Open fails: the PKCS#11 backend needs cgo.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*HSM, error) {
	return nil, errNoCgo
}

// Name returns Name.
func (h *HSM) Name() string { return Name }

// Current returns "" (the HSM cannot be opened).
func (h *HSM) Current() string { return "" }

// Close does nothing.
func (h *HSM) Close() error { return nil }

// Encrypt fails.
func (h *HSM) Encrypt(ctx context.Context, plaintext, aad []byte) ([]byte, error) {
	return nil, errNoCgo
}

// Decrypt fails.
func (h *HSM) Decrypt(ctx context.Context, blob, aad []byte) ([]byte, error) {
	return nil, errNoCgo
}

// Rewrap fails.
func (h *HSM) Rewrap(ctx context.Context, blob, aad []byte) ([]byte, error) {
	return nil, errNoCgo
}

// GenerateDataKey fails.
func (h *HSM) GenerateDataKey(ctx context.Context, aad []byte) (plain, wrapped []byte, err error) {
	return nil, nil, errNoCgo
}
