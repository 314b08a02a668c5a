//go:build cgo

package pkcs11kms

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/pkcs11"

	"onair/internal/kms"
)

const softhsmModule = "/usr/lib/softhsm/libsofthsm2.so"

// newToken initialises a throwaway SoftHSM2 token in a temporary
// directory (SOFTHSM2_CONF points there for this test) and returns a
// Config for it that creates the KEK "kek-1".
func newToken(t *testing.T, label string) Config {
	t.Helper()
	util, err := exec.LookPath("softhsm2-util")
	if err == nil {
		_, err = os.Stat(softhsmModule)
	}
	if err != nil {
		if testing.Short() {
			t.Skipf("SoftHSM2 is not installed (%v)", err)
		}
		t.Fatalf("SoftHSM2 is not installed (%v): run scripts/setup.sh (it installs the Debian package softhsm2)", err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.Mkdir(filepath.Join(dir, "tokens"), 0o700); err != nil {
		t.Fatal(err)
	}
	text := "directories.tokendir = " + filepath.Join(dir, "tokens") + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	out, err := exec.CommandContext(t.Context(), util, "--init-token", "--free", "--label", label, "--pin", "1234", "--so-pin", "5678").CombinedOutput()
	if err != nil {
		t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	return Config{Module: softhsmModule, TokenLabel: label, PIN: "1234", KeyLabel: "kek-1", CreateKey: true}
}

func openHSM(t *testing.T, cfg Config) *HSM {
	t.Helper()
	h, err := Open(t.Context(), cfg, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestHSMRoundTrip(t *testing.T) {
	ctx := t.Context()
	h := openHSM(t, newToken(t, "onair-test"))
	if h.Name() != "pkcs11" || h.Current() != "kek-1" {
		t.Fatalf("Name %q Current %q", h.Name(), h.Current())
	}
	plain := []byte("0123456789abcdef")
	blob, err := h.Encrypt(ctx, plain, []byte("news/0123"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := kms.ParseBlob(blob)
	if err != nil || b.Backend != "pkcs11" || b.KEKID != "kek-1" || len(b.Sealed) != len(plain)+kms.TagSize {
		t.Fatalf("ParseBlob = %+v, %v", b, err)
	}
	if bytes.Contains(blob, plain) {
		t.Fatal("blob holds the plaintext")
	}
	got, err := h.Decrypt(ctx, blob, []byte("news/0123"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Decrypt = %q, %v", got, err)
	}
	tampered := bytes.Clone(blob)
	tampered[len(tampered)-5] ^= 1
	local, _ := kms.LocalFromEnv("kek-1:" + strings.Repeat("AAAA", 10) + "AAA=")
	localBlob, _ := local.Encrypt(ctx, plain, nil)
	for _, tc := range []struct {
		name string
		blob []byte
		aad  string
		is   error
		msg  string
	}{
		{"other aad", blob, "news/0124", kms.ErrDecrypt, `blob under KEK id "kek-1": tampered`},
		{"tampered", tampered, "news/0123", kms.ErrDecrypt, "tampered"},
		{"local blob", localBlob, "", kms.ErrWrongBackend, `blob was made by backend "local", this KMS is "pkcs11"`},
		{"garbage", []byte("not a blob"), "", kms.ErrMalformed, "not a blob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.Decrypt(ctx, tc.blob, []byte(tc.aad))
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Decrypt = %q, %v; want %v containing %q", got, err, tc.is, tc.msg)
			}
		})
	}
	// The HSM still works after failed decryptions.
	dk, wrapped, err := h.GenerateDataKey(ctx, []byte("dek"))
	if err != nil || len(dk) != kms.DataKeySize {
		t.Fatalf("GenerateDataKey = %d bytes, %v", len(dk), err)
	}
	if got, err := h.Decrypt(ctx, wrapped, []byte("dek")); err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("Decrypt(data key) = %v", err)
	}
}

// The KEK is sensitive and not extractable: its value cannot be read.
func TestHSMKeyStaysInside(t *testing.T) {
	h := openHSM(t, newToken(t, "onair-test"))
	err := h.withSession(t.Context(), func(s pkcs11.SessionHandle) error {
		k, err := h.key(s, "kek-1")
		if err != nil {
			return err
		}
		attrs, err := h.p.GetAttributeValue(s, k, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, nil), pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, nil)})
		if err != nil {
			return err
		}
		if !bytes.Equal(attrs[0].Value, []byte{1}) || !bytes.Equal(attrs[1].Value, []byte{0}) {
			t.Errorf("CKA_SENSITIVE %x CKA_EXTRACTABLE %x, want 01 00", attrs[0].Value, attrs[1].Value)
		}
		_, err = h.p.GetAttributeValue(s, k, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
		if !isCode(err, pkcs11.CKR_ATTRIBUTE_SENSITIVE) {
			t.Errorf("reading CKA_VALUE: %v, want CKR_ATTRIBUTE_SENSITIVE", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestHSMOpenErrors(t *testing.T) {
	cfg := newToken(t, "onair-test")
	for _, tc := range []struct {
		name string
		edit func(*Config)
		msg  string
	}{
		{"missing key", func(c *Config) { c.CreateKey = false },
			`blob was encrypted with KEK id "kek-1" which is not in token "onair-test" (no AES key with that label)`},
		{"wrong pin", func(c *Config) { c.PIN = "9999" }, `login to token "onair-test": wrong PIN`},
		{"no token", func(c *Config) { c.TokenLabel = "other" }, `no token labelled "other" (tokens present: "onair-test"`},
		{"no module", func(c *Config) { c.Module = "/nonexistent/libpkcs11.so" }, "cannot load module /nonexistent/libpkcs11.so"},
		{"bad label", func(c *Config) { c.KeyLabel = "a b" }, `key label "a b" is not`},
		{"no pin", func(c *Config) { c.PIN = "" }, "a PIN or a PIN file is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			tc.edit(&c)
			h, err := Open(t.Context(), c, nil)
			if err == nil {
				h.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Open = %v; want an error containing %q", err, tc.msg)
			}
			if strings.Contains(err.Error(), "9999") {
				t.Fatalf("error shows the PIN: %v", err)
			}
		})
	}
	// After the failures, the token opens normally (nothing was left initialised).
	openHSM(t, cfg)
}

func TestHSMRotationAndRewrap(t *testing.T) {
	ctx := t.Context()
	cfg := newToken(t, "onair-test")
	h1, err := Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	old, err := h1.Encrypt(ctx, []byte("content key 0001"), []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	h1.Close()

	cfg.KeyLabel = "kek-2"
	h2 := openHSM(t, cfg)
	if got, err := h2.Decrypt(ctx, old, []byte("a")); err != nil || string(got) != "content key 0001" {
		t.Fatalf("old blob after rotation: %q, %v", got, err)
	}
	fresh, _ := h2.Encrypt(ctx, []byte("x"), nil)
	if b, _ := kms.ParseBlob(fresh); b.KEKID != "kek-2" {
		t.Fatalf("new blob under %q, want kek-2", b.KEKID)
	}
	moved, err := h2.Rewrap(ctx, old, []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := kms.ParseBlob(moved); b.KEKID != "kek-2" {
		t.Fatalf("rewrapped blob under %q, want kek-2", b.KEKID)
	}
	if got, err := h2.Decrypt(ctx, moved, []byte("a")); err != nil || string(got) != "content key 0001" {
		t.Fatalf("Decrypt(rewrapped) = %q, %v", got, err)
	}
	b, _ := kms.ParseBlob(old)
	b.KEKID = "kek-9"
	unknown, _ := b.Marshal()
	_, err = h2.Decrypt(ctx, unknown, []byte("a"))
	if !errors.Is(err, kms.ErrUnknownKEK) || !strings.Contains(err.Error(), `KEK id "kek-9" which is not in token "onair-test"`) {
		t.Fatalf("Decrypt(unknown KEK) = %v", err)
	}
}

func TestHSMConcurrentAndSessionLoss(t *testing.T) {
	ctx := t.Context()
	cfg := newToken(t, "onair-test")
	cfg.Sessions = 3
	var logs bytes.Buffer
	h, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range 40 {
				aad := []byte{byte(g), byte(i)}
				blob, err := h.Encrypt(ctx, bytes.Repeat(aad, 8), aad)
				if err == nil {
					var got []byte
					got, err = h.Decrypt(ctx, blob, aad)
					if err == nil && !bytes.Equal(got, bytes.Repeat(aad, 8)) {
						err = errors.New("wrong plaintext")
					}
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// Close every pool session behind the HSM's back: calls reopen them.
	for range cfg.Sessions {
		s := <-h.sessions
		h.p.CloseSession(s)
		h.sessions <- s
	}
	for i := range cfg.Sessions + 1 {
		if _, err := h.Encrypt(ctx, []byte("after loss"), nil); err != nil {
			t.Fatalf("Encrypt %d after the sessions were closed: %v", i, err)
		}
	}
	if n := strings.Count(logs.String(), "pkcs11 session lost, reopened"); n != cfg.Sessions {
		t.Fatalf("%d sessions reopened, want %d; log:\n%s", n, cfg.Sessions, logs.String())
	}
}

// Two HSMs on one module share its initialisation and login.
func TestHSMTwoInstances(t *testing.T) {
	ctx := t.Context()
	cfg := newToken(t, "onair-test")
	h1 := openHSM(t, cfg)
	h2, err := Open(ctx, cfg, nil)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	blob, err := h2.Encrypt(ctx, []byte("shared"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h2.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := h1.Decrypt(ctx, blob, nil); err != nil || string(got) != "shared" {
		t.Fatalf("first HSM after the second closed: %q, %v", got, err)
	}
	if _, err := h2.Encrypt(ctx, []byte("x"), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Encrypt after Close = %v, want ErrClosed", err)
	}
}

func TestPINFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		mode          os.FileMode
		pin, err      string
	}{
		{"ok", "1234\n", 0o600, "1234", ""},
		{"crlf", "abcd\r\n", 0o400, "abcd", ""},
		{"readable", "1234\n", 0o644, "", "has mode -rw-r--r--: it must be a regular file without group or other access"},
		{"empty", "\n", 0o600, "", "is empty"},
	} {
		path := filepath.Join(dir, tc.name)
		os.WriteFile(path, []byte(tc.content), 0o600)
		os.Chmod(path, tc.mode)
		c, err := Config{Module: "m", TokenLabel: "t", KeyLabel: "k", PINFile: path}.validate()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: validate = %v; want an error containing %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || c.PIN != tc.pin || c.Sessions != 2 {
			t.Errorf("%s: validate = PIN %q sessions %d, %v; want %q", tc.name, c.PIN, c.Sessions, err, tc.pin)
		}
	}
}
