package kms

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// testLocal builds a Local with random KEKs; the first id is current.
func testLocal(tb testing.TB, ids ...string) *Local {
	tb.Helper()
	l, err := NewLocal(testKeyring(tb, ids...))
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

func testKeyring(tb testing.TB, ids ...string) Keyring {
	tb.Helper()
	var r Keyring
	for _, id := range ids {
		k, err := GenerateKEK(id, time.Now())
		if err != nil {
			tb.Fatal(err)
		}
		r.KEKs = append(r.KEKs, k)
	}
	r.Current = ids[0]
	return r
}

func TestLocalRoundTrip(t *testing.T) {
	ctx := t.Context()
	l := testLocal(t, "k1")
	for _, plain := range [][]byte{{}, []byte("0123456789abcdef"), bytes.Repeat([]byte{1}, MaxPlaintext)} {
		blob, err := l.Encrypt(ctx, plain, []byte("news/0123"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseBlob(blob)
		if err != nil || b.Backend != "local" || b.KEKID != "k1" {
			t.Fatalf("ParseBlob = %+v, %v; want local/k1", b, err)
		}
		if len(plain) >= 16 && bytes.Contains(blob, plain[:16]) {
			t.Fatal("blob holds the plaintext")
		}
		got, err := l.Decrypt(ctx, blob, []byte("news/0123"))
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Decrypt = %d bytes, %v; want the %d plaintext bytes", len(got), err, len(plain))
		}
	}
	again, _ := l.Encrypt(ctx, []byte("x"), nil)
	again2, _ := l.Encrypt(ctx, []byte("x"), nil)
	if bytes.Equal(again, again2) {
		t.Fatal("two encryptions gave the same blob (nonce reuse)")
	}
	if _, err := l.Encrypt(ctx, make([]byte, MaxPlaintext+1), nil); err == nil || !strings.Contains(err.Error(), "seal a data key instead") {
		t.Fatalf("Encrypt(too large) = %v", err)
	}
}

func TestLocalDecryptErrors(t *testing.T) {
	ctx := t.Context()
	l := testLocal(t, "k1", "k0")
	blob, err := l.Encrypt(ctx, []byte("0123456789abcdef"), []byte("news/0123"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(blob)
		b[i] ^= 0x01
		return b
	}
	retag := func(backend, kek string) []byte {
		b, _ := ParseBlob(blob)
		b.Backend, b.KEKID = backend, kek
		out, err := b.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	otherKey := testLocal(t, "k1") // same id, other key material
	for _, tc := range []struct {
		name string
		l    *Local
		blob []byte
		aad  string
		is   error
		msg  string
	}{
		{"other aad", l, blob, "news/0124", ErrDecrypt, `blob under KEK id "k1": tampered, sealed for another use (AAD)`},
		{"no aad", l, blob, "", ErrDecrypt, "tampered"},
		{"ciphertext bit", l, flip(len(blob) - 20), "news/0123", ErrDecrypt, "tampered"},
		{"tag bit", l, flip(len(blob) - 1), "news/0123", ErrDecrypt, "tampered"},
		{"nonce bit", l, flip(len("okms") + 1 + 6 + 3 + 1), "news/0123", ErrDecrypt, "tampered"},
		{"kek id moved", l, retag("local", "k0"), "news/0123", ErrDecrypt, `KEK id "k0"`},
		{"unknown kek", l, retag("local", "k9"), "news/0123", ErrUnknownKEK,
			`blob was encrypted with KEK id "k9" which is not in the keyring (it holds "k1", "k0")`},
		{"other backend", l, retag("pkcs11", "k1"), "news/0123", ErrWrongBackend, `blob was made by backend "pkcs11", this KMS is "local"`},
		{"version", l, flip(len("okms")), "news/0123", ErrMalformed, "blob version 0"},
		{"truncated", l, blob[:len(blob)-17], "news/0123", ErrMalformed, "ciphertext of 15 bytes"},
		{"same id other key", otherKey, blob, "news/0123", ErrDecrypt, `or the KEK with that id is another key`},
		{"keyring without the id", testLocal(t, "k2"), blob, "news/0123", ErrUnknownKEK, `KEK id "k1" which is not in the keyring (it holds "k2")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.l.Decrypt(ctx, tc.blob, []byte(tc.aad))
			if err == nil || !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Decrypt = %x, %v; want %v containing %q", got, err, tc.is, tc.msg)
			}
		})
	}
}

func TestLocalRotationAndRewrap(t *testing.T) {
	ctx := t.Context()
	old := testKeyring(t, "k1")
	l1, _ := NewLocal(old)
	blob, err := l1.Encrypt(ctx, []byte("0123456789abcdef"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := GenerateKEK("k2", time.Now())
	l2, err := NewLocal(Keyring{Current: "k2", KEKs: append([]KEK{k2}, old.KEKs...)})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := l2.Decrypt(ctx, blob, []byte("aad")); err != nil || string(got) != "0123456789abcdef" {
		t.Fatalf("rotated keyring: Decrypt(old blob) = %q, %v", got, err)
	}
	fresh, _ := l2.Encrypt(ctx, []byte("x"), nil)
	if b, _ := ParseBlob(fresh); b.KEKID != "k2" {
		t.Fatalf("new blob under %q, want k2", b.KEKID)
	}
	moved, err := l2.Rewrap(ctx, blob, []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := ParseBlob(moved); b.KEKID != "k2" {
		t.Fatalf("rewrapped blob under %q, want k2", b.KEKID)
	}
	// Once rewrapped, the old KEK can go.
	l3, _ := NewLocal(Keyring{Current: "k2", KEKs: []KEK{k2}})
	if got, err := l3.Decrypt(ctx, moved, []byte("aad")); err != nil || string(got) != "0123456789abcdef" {
		t.Fatalf("without k1: Decrypt(rewrapped) = %q, %v", got, err)
	}
	if _, err := l3.Decrypt(ctx, blob, []byte("aad")); !errors.Is(err, ErrUnknownKEK) {
		t.Fatalf("without k1: Decrypt(old) = %v, want ErrUnknownKEK", err)
	}
	if _, err := l2.Rewrap(ctx, blob, []byte("other")); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("Rewrap with other aad = %v, want ErrDecrypt", err)
	}
}

func TestLocalGenerateDataKey(t *testing.T) {
	ctx := t.Context()
	l := testLocal(t, "k1")
	plain, wrapped, err := l.GenerateDataKey(ctx, []byte("dek"))
	if err != nil || len(plain) != DataKeySize {
		t.Fatalf("GenerateDataKey = %d bytes, %v", len(plain), err)
	}
	if bytes.Contains(wrapped, plain) {
		t.Fatal("wrapped data key holds the key")
	}
	got, err := l.Decrypt(ctx, wrapped, []byte("dek"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Decrypt(wrapped) = %v", err)
	}
}

func TestLocalFromEnv(t *testing.T) {
	l, err := LocalFromEnv("k2:" + b64B + ",k1:" + b64A)
	if err != nil {
		t.Fatal(err)
	}
	if l.Name() != "local" || l.Current() != "k2" || strings.Join(l.IDs(), ",") != "k2,k1" {
		t.Fatalf("LocalFromEnv: %s %s %v", l.Name(), l.Current(), l.IDs())
	}
	if _, err := LocalFromEnv("k1:short"); err == nil {
		t.Fatal("LocalFromEnv accepted a bad key")
	}
}

func TestLocalConcurrent(t *testing.T) {
	ctx := t.Context()
	l := testLocal(t, "k1", "k2")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				aad := []byte{byte(g), byte(i)}
				b, err := l.Encrypt(ctx, aad, aad)
				if err == nil {
					var got []byte
					got, err = l.Decrypt(ctx, b, aad)
					if err == nil && !bytes.Equal(got, aad) {
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
}
