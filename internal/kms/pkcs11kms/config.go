package pkcs11kms

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"onair/internal/kms"
)

// Name is the backend name in blobs.
const Name = "pkcs11"

// ErrClosed is returned by calls on a closed HSM.
var ErrClosed = errors.New("pkcs11: HSM closed")

// Config selects the module, token and KEK.
type Config struct {
	// Module is the PKCS#11 library path, e.g.
	// /usr/lib/softhsm/libsofthsm2.so. Required.
	Module string
	// TokenLabel names the token (the label given at token init).
	// Required.
	TokenLabel string
	// PIN is the user PIN. When empty, PINFile is read.
	PIN string
	// PINFile holds the user PIN (trailing newline ignored); it must not
	// be readable by group or others.
	PINFile string
	// KeyLabel is the label of the AES-256 KEK in the token and its KEK
	// id in blobs: 1-64 of [A-Za-z0-9._-]. Required.
	KeyLabel string
	// CreateKey generates the KEK in the token (non-extractable,
	// sensitive) when no key has KeyLabel. Default false: a missing key
	// is an error.
	CreateKey bool
	// Sessions is the number of concurrent PKCS#11 sessions. Default 2.
	Sessions int
}

// validate checks the config and resolves the PIN.
func (c Config) validate() (Config, error) {
	var errs []error
	if c.Module == "" {
		errs = append(errs, errors.New("module path is required"))
	}
	if c.TokenLabel == "" {
		errs = append(errs, errors.New("token label is required"))
	}
	if !kms.ValidKEKID(c.KeyLabel) {
		errs = append(errs, fmt.Errorf("key label %q is not 1-64 of [A-Za-z0-9._-]", c.KeyLabel))
	}
	if c.Sessions < 0 {
		errs = append(errs, fmt.Errorf("sessions %d is negative", c.Sessions))
	}
	if c.Sessions == 0 {
		c.Sessions = 2
	}
	if c.PIN == "" && c.PINFile == "" {
		errs = append(errs, errors.New("a PIN or a PIN file is required"))
	}
	if c.PIN == "" && c.PINFile != "" {
		pin, err := readPIN(c.PINFile)
		if err != nil {
			errs = append(errs, err)
		}
		c.PIN = pin
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("pkcs11: config: %w", err)
	}
	return c, nil
}

// readPIN reads a PIN file, refusing one that group or others may access.
func readPIN(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("PIN file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("PIN file: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 || !st.Mode().IsRegular() {
		return "", fmt.Errorf("PIN file %s has mode %v: it must be a regular file without group or other access (run chmod 600 %s)", path, st.Mode(), path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", fmt.Errorf("PIN file %s: %w", path, err)
	}
	pin := strings.TrimRight(string(b), "\r\n")
	if pin == "" {
		return "", fmt.Errorf("PIN file %s is empty", path)
	}
	return pin, nil
}
