package kms

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// blobBytes assembles a blob from raw parts, without validation.
func blobBytes(version byte, backend, kek string, nonce, sealed []byte) []byte {
	b := []byte("okms")
	b = append(b, version, byte(len(backend)))
	b = append(b, backend...)
	b = append(b, byte(len(kek)))
	b = append(b, kek...)
	b = append(b, byte(len(nonce)))
	b = append(b, nonce...)
	return append(b, sealed...)
}

var (
	nonce12 = bytes.Repeat([]byte{7}, 12)
	tag16   = bytes.Repeat([]byte{9}, 16)
)

var blobCases = []struct {
	name string
	in   []byte
	want Blob   // when err == ""
	err  string // substring of the error
}{
	{"minimal", blobBytes(1, "local", "k1", nonce12, tag16),
		Blob{Backend: "local", KEKID: "k1", Nonce: nonce12, Sealed: tag16}, ""},
	{"pkcs11 with data", blobBytes(1, "pkcs11", "onair-kek.2026_11", nonce12, append([]byte("0123456789abcdef"), tag16...)),
		Blob{Backend: "pkcs11", KEKID: "onair-kek.2026_11", Nonce: nonce12, Sealed: append([]byte("0123456789abcdef"), tag16...)}, ""},
	{"empty", nil, Blob{}, "not a blob"},
	{"json", []byte(`{"kid":"x"}`), Blob{}, "not a blob"},
	{"magic only", []byte("okms"), Blob{}, "not a blob"},
	{"version 2", blobBytes(2, "local", "k1", nonce12, tag16), Blob{}, "blob version 2"},
	{"version 0", blobBytes(0, "local", "k1", nonce12, tag16), Blob{}, "blob version 0"},
	{"no backend", []byte("okms\x01"), Blob{}, "truncated in its backend"},
	{"backend overruns", []byte("okms\x01\x09local"), Blob{}, "truncated in its backend"},
	{"empty backend", blobBytes(1, "", "k1", nonce12, tag16), Blob{}, "backend name"},
	{"upper backend", blobBytes(1, "Local", "k1", nonce12, tag16), Blob{}, "backend name"},
	{"empty kek", blobBytes(1, "local", "", nonce12, tag16), Blob{}, "KEK id is not"},
	{"kek with slash", blobBytes(1, "local", "a/b", nonce12, tag16), Blob{}, "KEK id is not"},
	{"kek too long", blobBytes(1, "local", strings.Repeat("k", 65), nonce12, tag16), Blob{}, "KEK id is not"},
	{"no nonce", []byte("okms\x01\x05local\x02k1"), Blob{}, "truncated in its nonce"},
	{"short nonce", blobBytes(1, "local", "k1", nonce12[:8], tag16), Blob{}, "nonce of 8 bytes"},
	{"short tag", blobBytes(1, "local", "k1", nonce12, tag16[:15]), Blob{}, "ciphertext of 15 bytes"},
	{"no ciphertext", blobBytes(1, "local", "k1", nonce12, nil), Blob{}, "ciphertext of 0 bytes"},
	{"too long", blobBytes(1, "local", "k1", nonce12, make([]byte, MaxPlaintext+TagSize+1)), Blob{}, "ciphertext of 65553 bytes"},
}

func TestParseBlob(t *testing.T) {
	for _, tc := range blobCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseBlob(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrMalformed) {
					t.Fatalf("ParseBlob = %+v, %v; want an ErrMalformed error containing %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseBlob: %v", err)
			}
			if got.Backend != tc.want.Backend || got.KEKID != tc.want.KEKID ||
				!bytes.Equal(got.Nonce, tc.want.Nonce) || !bytes.Equal(got.Sealed, tc.want.Sealed) {
				t.Fatalf("ParseBlob = %+v, want %+v", got, tc.want)
			}
			again, err := got.Marshal()
			if err != nil || !bytes.Equal(again, tc.in) {
				t.Fatalf("Marshal = %x, %v; want the input %x", again, err, tc.in)
			}
		})
	}
}

func TestBlobMarshalRefusesInvalid(t *testing.T) {
	for _, b := range []Blob{
		{Backend: "", KEKID: "k", Nonce: nonce12, Sealed: tag16},
		{Backend: "local", KEKID: "k k", Nonce: nonce12, Sealed: tag16},
		{Backend: "local", KEKID: "k", Nonce: nonce12[:4], Sealed: tag16},
		{Backend: "local", KEKID: "k", Nonce: nonce12, Sealed: tag16[:3]},
	} {
		if out, err := b.Marshal(); err == nil {
			t.Errorf("Marshal(%+v) = %x, want an error", b, out)
		}
	}
}

// FuzzParseBlob: ParseBlob never panics, accepts only canonical encodings,
// and Local.Decrypt opens nothing but the blobs Local made.
func FuzzParseBlob(f *testing.F) {
	l := testLocal(f, "k1", "k2")
	known := map[string]bool{}
	for _, tc := range blobCases {
		f.Add(tc.in)
	}
	for _, aad := range []string{"", "news/0123"} {
		b, err := l.Encrypt(f.Context(), []byte("sixteen byte key"), []byte(aad))
		if err != nil {
			f.Fatal(err)
		}
		if aad == "" {
			known[string(b)] = true
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		b, err := ParseBlob(in)
		if err == nil {
			out, merr := b.Marshal()
			if merr != nil || !bytes.Equal(out, in) {
				t.Fatalf("parsed %x as %+v, which marshals as %x, %v", in, b, out, merr)
			}
		} else if !errors.Is(err, ErrMalformed) {
			t.Fatalf("parse error without ErrMalformed: %v", err)
		}
		plain, err := l.Decrypt(t.Context(), in, nil)
		if err == nil && !known[string(in)] {
			t.Fatalf("decrypted a blob Local never made: %x -> %x", in, plain)
		}
	})
}
