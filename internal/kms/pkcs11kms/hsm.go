//go:build cgo

package pkcs11kms

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"

	"onair/internal/kms"
)

// HSM is the PKCS#11 KMS. It is safe for concurrent use.
type HSM struct {
	log      *slog.Logger
	p        *pkcs11.Ctx
	owner    bool // Open initialised the module, so Close finalises it
	slot     uint
	token    string
	pin      string
	label    string
	n        int
	sessions chan pkcs11.SessionHandle // the idle sessions
	done     chan struct{}             // closed by Close

	mu     sync.Mutex
	keys   map[string]pkcs11.ObjectHandle // by label
	closed bool
}

var _ kms.KMS = (*HSM)(nil)

// Open loads the module, logs in to the token and finds (or, with
// CreateKey, generates) the KEK. Close releases the sessions and module.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*HSM, error) {
	cfg, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := pkcs11.New(cfg.Module)
	if p == nil {
		return nil, fmt.Errorf("pkcs11: cannot load module %s (is the HSM library installed? SoftHSM: apt-get install softhsm2)", cfg.Module)
	}
	owner := true
	if err := p.Initialize(); err != nil {
		if !isCode(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
			p.Destroy()
			return nil, fmt.Errorf("pkcs11: initialise %s: %w", cfg.Module, err)
		}
		owner = false // another HSM in this process initialised it
	}
	h := &HSM{
		log: log, p: p, owner: owner, token: cfg.TokenLabel, pin: cfg.PIN, label: cfg.KeyLabel,
		n: cfg.Sessions, sessions: make(chan pkcs11.SessionHandle, cfg.Sessions), done: make(chan struct{}),
		keys: map[string]pkcs11.ObjectHandle{},
	}
	if h.slot, err = findSlot(p, cfg.TokenLabel); err != nil {
		h.release(0)
		return nil, err
	}
	for i := range cfg.Sessions {
		s, err := h.openSession(pkcs11.CKF_SERIAL_SESSION)
		if err != nil {
			h.release(i)
			return nil, err
		}
		h.sessions <- s
	}
	err = h.withSession(ctx, func(s pkcs11.SessionHandle) error {
		_, err := h.key(s, h.label)
		if errors.Is(err, kms.ErrUnknownKEK) && cfg.CreateKey {
			return h.createKey(h.label)
		}
		return err
	})
	if err != nil {
		h.Close()
		return nil, err
	}
	log.Info("pkcs11 KMS open", "module", cfg.Module, "token", cfg.TokenLabel, "kek", cfg.KeyLabel)
	return h, nil
}

// findSlot returns the slot holding the token labelled label.
func findSlot(p *pkcs11.Ctx, label string) (uint, error) {
	slots, err := p.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("pkcs11: list slots: %w", err)
	}
	var seen []string
	for _, slot := range slots {
		ti, err := p.GetTokenInfo(slot)
		if err != nil {
			continue
		}
		if ti.Label == label {
			if ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
				return 0, fmt.Errorf("pkcs11: token %q is not initialised", label)
			}
			return slot, nil
		}
		if ti.Label != "" {
			seen = append(seen, fmt.Sprintf("%q", ti.Label))
		}
	}
	return 0, fmt.Errorf("pkcs11: no token labelled %q (tokens present: %s)", label, strings.Join(seen, ", "))
}

// openSession opens a session and logs the user in (login is shared by
// all sessions of the process on the token).
func (h *HSM) openSession(flags uint) (pkcs11.SessionHandle, error) {
	s, err := h.p.OpenSession(h.slot, flags)
	if err != nil {
		return 0, fmt.Errorf("pkcs11: open session on token %q: %w", h.token, err)
	}
	if err := h.p.Login(s, pkcs11.CKU_USER, h.pin); err != nil && !isCode(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		h.p.CloseSession(s)
		if isCode(err, pkcs11.CKR_PIN_INCORRECT) {
			return 0, fmt.Errorf("pkcs11: login to token %q: wrong PIN: %w", h.token, err)
		}
		return 0, fmt.Errorf("pkcs11: login to token %q: %w", h.token, err)
	}
	return s, nil
}

// release closes the first n pool sessions and the module (on a failed
// Open).
func (h *HSM) release(n int) {
	for range n {
		h.p.CloseSession(<-h.sessions)
	}
	if h.owner {
		h.p.Finalize()
	}
	h.p.Destroy()
}

// Close waits for calls in progress, closes the sessions and, if Open
// initialised the module, finalises it. Later calls fail with ErrClosed.
func (h *HSM) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	close(h.done)
	h.mu.Unlock()
	var errs []error
	for range h.n {
		if err := h.p.CloseSession(<-h.sessions); err != nil && !sessionLost(err) {
			errs = append(errs, err)
		}
	}
	if h.owner {
		if err := h.p.Finalize(); err != nil {
			errs = append(errs, err)
		}
	}
	h.p.Destroy()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pkcs11: close: %w", err)
	}
	return nil
}

// Name returns Name.
func (h *HSM) Name() string { return Name }

// Current returns the label of the KEK that seals new blobs.
func (h *HSM) Current() string { return h.label }

// Encrypt seals plaintext under the current KEK inside the HSM.
func (h *HSM) Encrypt(ctx context.Context, plaintext, aad []byte) ([]byte, error) {
	if err := kms.CheckPlaintext(plaintext); err != nil {
		return nil, err
	}
	b := kms.Blob{Backend: Name, KEKID: h.label}
	err := h.withSession(ctx, func(s pkcs11.SessionHandle) error {
		k, err := h.key(s, b.KEKID)
		if err != nil {
			return err
		}
		// A fresh nonce per attempt: a retry after a lost session must
		// not reuse one the HSM may already have used.
		b.Nonce = make([]byte, kms.NonceSize)
		if _, err := rand.Read(b.Nonce); err != nil {
			return fmt.Errorf("nonce: %w", err)
		}
		gp := pkcs11.NewGCMParams(b.Nonce, b.AdditionalData(aad), kms.TagSize*8)
		defer gp.Free()
		if err := h.p.EncryptInit(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, gp)}, k); err != nil {
			return err
		}
		out, err := h.p.Encrypt(s, plaintext)
		if err != nil {
			return err
		}
		// Some HSMs choose the IV themselves and write it back.
		if iv := gp.IV(); len(iv) == kms.NonceSize {
			b.Nonce = iv
		}
		b.Sealed = out
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pkcs11: encrypt with KEK %q: %w", b.KEKID, err)
	}
	return b.Marshal()
}

// Decrypt opens a blob sealed under any key of the token, by its label.
func (h *HSM) Decrypt(ctx context.Context, blob, aad []byte) ([]byte, error) {
	b, err := kms.ParseBlob(blob)
	if err != nil {
		return nil, err
	}
	if b.Backend != Name {
		return nil, kms.WrongBackendError(b.Backend, Name)
	}
	var plain []byte
	err = h.withSession(ctx, func(s pkcs11.SessionHandle) error {
		k, err := h.key(s, b.KEKID)
		if err != nil {
			return err
		}
		gp := pkcs11.NewGCMParams(b.Nonce, b.AdditionalData(aad), kms.TagSize*8)
		defer gp.Free()
		if err := h.p.DecryptInit(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, gp)}, k); err != nil {
			return err
		}
		plain, err = h.p.Decrypt(s, b.Sealed)
		if authFailed(err) {
			return fmt.Errorf("%w (the HSM answered %w)", kms.DecryptError(b.KEKID), err)
		}
		return err
	})
	if err != nil {
		if errors.Is(err, kms.ErrUnknownKEK) || errors.Is(err, kms.ErrDecrypt) {
			return nil, err
		}
		return nil, fmt.Errorf("pkcs11: decrypt with KEK %q: %w", b.KEKID, err)
	}
	return plain, nil
}

// Rewrap re-encrypts a blob under the current KEK.
func (h *HSM) Rewrap(ctx context.Context, blob, aad []byte) ([]byte, error) {
	return kms.Rewrap(ctx, h, blob, aad)
}

// GenerateDataKey returns a random data key and the key sealed with aad.
func (h *HSM) GenerateDataKey(ctx context.Context, aad []byte) (plain, wrapped []byte, err error) {
	return kms.GenerateDataKey(ctx, h, aad)
}

// withSession runs fn on an idle session. A session the HSM lost is
// reopened (with the key handles forgotten) and fn retried once; so is fn
// after a stale key handle.
func (h *HSM) withSession(ctx context.Context, fn func(pkcs11.SessionHandle) error) error {
	var s pkcs11.SessionHandle
	select {
	case s = <-h.sessions:
	case <-h.done:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("pkcs11: waiting for a session: %w", ctx.Err())
	}
	defer func() { h.sessions <- s }()
	select {
	case <-h.done:
		return ErrClosed
	default:
	}
	err := fn(s)
	switch {
	case sessionLost(err):
		h.forgetKeys()
		s2, oerr := h.openSession(pkcs11.CKF_SERIAL_SESSION)
		if oerr != nil {
			return fmt.Errorf("%w (reopening the session: %w)", err, oerr)
		}
		h.p.CloseSession(s)
		s = s2
		h.log.Warn("pkcs11 session lost, reopened", "token", h.token, "error", err)
		return fn(s)
	case isCode(err, pkcs11.CKR_OBJECT_HANDLE_INVALID) || isCode(err, pkcs11.CKR_KEY_HANDLE_INVALID):
		h.forgetKeys()
		return fn(s)
	}
	return err
}

// key returns the handle of the AES-256 key labelled label.
func (h *HSM) key(s pkcs11.SessionHandle, label string) (pkcs11.ObjectHandle, error) {
	h.mu.Lock()
	k, ok := h.keys[label]
	h.mu.Unlock()
	if ok {
		return k, nil
	}
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}
	if err := h.p.FindObjectsInit(s, tmpl); err != nil {
		return 0, err
	}
	found, _, err := h.p.FindObjects(s, 2)
	if ferr := h.p.FindObjectsFinal(s); err == nil {
		err = ferr
	}
	if err != nil {
		return 0, err
	}
	switch len(found) {
	case 0:
		return 0, kms.UnknownKEKError(label, fmt.Sprintf("token %q (no AES key with that label)", h.token))
	case 2:
		return 0, fmt.Errorf("pkcs11: token %q holds several AES keys labelled %q", h.token, label)
	}
	attrs, err := h.p.GetAttributeValue(s, found[0], []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, nil)})
	if err != nil {
		return 0, fmt.Errorf("pkcs11: key %q length: %w", label, err)
	}
	if n := ulong(attrs[0].Value); n != 32 {
		return 0, fmt.Errorf("pkcs11: key %q in token %q is %d bytes, want 32 (AES-256)", label, h.token, n)
	}
	h.mu.Lock()
	h.keys[label] = found[0]
	h.mu.Unlock()
	return found[0], nil
}

func (h *HSM) forgetKeys() {
	h.mu.Lock()
	clear(h.keys)
	h.mu.Unlock()
}

// createKey generates a token-resident, non-extractable AES-256 key.
func (h *HSM) createKey(label string) error {
	s, err := h.openSession(pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION)
	if err != nil {
		return err
	}
	defer h.p.CloseSession(s)
	_, err = h.p.GenerateKey(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
	})
	if err != nil {
		return fmt.Errorf("pkcs11: generate KEK %q in token %q: %w", label, h.token, err)
	}
	h.log.Info("pkcs11 KEK created", "token", h.token, "kek", label)
	return nil
}

// isCode reports whether err is the PKCS#11 return value code.
func isCode(err error, code uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == code
}

// authFailed reports the answers of C_Decrypt to a GCM tag mismatch:
// CKR_ENCRYPTED_DATA_INVALID in the standard, CKR_GENERAL_ERROR from
// SoftHSM2 2.6 (its OpenSSL backend reports only that the final step
// failed). The key and parameters were accepted by C_DecryptInit, so a
// failure here is about the data.
func authFailed(err error) bool {
	for _, c := range []uint{pkcs11.CKR_ENCRYPTED_DATA_INVALID, pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE,
		pkcs11.CKR_GENERAL_ERROR, pkcs11.CKR_FUNCTION_FAILED} {
		if isCode(err, c) {
			return true
		}
	}
	return false
}

// sessionLost reports errors after which a session must be reopened.
func sessionLost(err error) bool {
	for _, c := range []uint{pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_SESSION_CLOSED,
		pkcs11.CKR_USER_NOT_LOGGED_IN, pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_TOKEN_NOT_PRESENT} {
		if isCode(err, c) {
			return true
		}
	}
	return false
}

// ulong decodes a CK_ULONG attribute value (native byte order).
func ulong(b []byte) uint64 {
	switch len(b) {
	case 8:
		return binary.NativeEndian.Uint64(b)
	case 4:
		return uint64(binary.NativeEndian.Uint32(b))
	}
	return 0
}
