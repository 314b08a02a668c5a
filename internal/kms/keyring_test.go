package kms

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	b64A = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xA1}, 32))
	b64B = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xB2}, 32))
	b64C = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xC3}, 32))
	b64S = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xD4}, 16)) // too short
)

var keyringCases = []struct {
	name    string
	in      string
	current string
	ids     []string
	err     string // substring of the error
}{
	{"one", "k1 " + b64A + "\n", "k1", []string{"k1"}, ""},
	{"first is current", "k1 " + b64A + "\nk2 " + b64B + "\n", "k1", []string{"k1", "k2"}, ""},
	{"marked", "# keys\n\nk1 " + b64A + "\n\tk2\t" + b64B + "  current \r\nk3 " + b64C, "k2", []string{"k1", "k2", "k3"}, ""},
	{"written form", "# onair KEK keyring\nkek-20261101-9f3a " + b64A + " current\nkek-20261001-41c2 " + b64B + "\n",
		"kek-20261101-9f3a", []string{"kek-20261101-9f3a", "kek-20261001-41c2"}, ""},
	{"empty", "", "", nil, "holds no KEK"},
	{"comments only", "# nothing\n\n", "", nil, "holds no KEK"},
	{"one field", "k1\n", "", nil, "line 1: want \"id base64-key [current]\", got 1 fields"},
	{"four fields", "k1 " + b64A + " current yes\n", "", nil, "got 4 fields"},
	{"bad mark", "k1 " + b64A + " primary\n", "", nil, "third field must be \"current\""},
	{"two current", "k1 " + b64A + " current\nk2 " + b64B + " current\n", "", nil, "line 2: a second KEK is marked current"},
	{"short key", "\n\nk1 " + b64S + "\n", "", nil, "line 3: KEK \"k1\" is 16 bytes, want 32 (AES-256"},
	{"bad base64", "k1 " + b64A[:10] + "!" + b64A[11:] + "\n", "", nil, "line 1: KEK \"k1\" is not valid standard base64"},
	{"url base64", "k1 " + strings.NewReplacer("+", "-", "/", "_").Replace(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32))) + "\n", "", nil, "not valid standard base64"},
	{"unpadded", "k1 " + strings.TrimRight(b64A, "=") + "\n", "", nil, "not valid standard base64"},
	{"bad id", "k/1 " + b64A + "\n", "", nil, "KEK id \"k/1\" is not"},
	{"duplicate id", "k1 " + b64A + "\nk1 " + b64B + "\n", "", nil, "holds KEK id \"k1\" twice"},
}

func TestParseKeyring(t *testing.T) {
	for _, tc := range keyringCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseKeyring([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseKeyring = %v, %v; want an error containing %q", r.IDs(), err, tc.err)
				}
				for _, secret := range []string{b64A, b64B, b64C, b64S, b64A[:20]} {
					if strings.Contains(err.Error(), secret) {
						t.Fatalf("error shows key material: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKeyring: %v", err)
			}
			if r.Current != tc.current || !slices.Equal(r.IDs(), tc.ids) {
				t.Fatalf("ParseKeyring = current %q ids %v, want %q %v", r.Current, r.IDs(), tc.current, tc.ids)
			}
		})
	}
}

func TestParseKeyringEnv(t *testing.T) {
	for _, tc := range []struct {
		in      string
		current string
		ids     []string
		err     string
	}{
		{"k1:" + b64A, "k1", []string{"k1"}, ""},
		{" k2:" + b64B + " , k1:" + b64A, "k2", []string{"k2", "k1"}, ""},
		{"", "", nil, "entry 1: want \"id:base64-key\""},
		{b64A, "", nil, "entry 1: want \"id:base64-key\""},
		{"k1:" + b64A + ",", "", nil, "entry 2: want"},
		{"k1:" + b64S, "", nil, "entry 1: KEK \"k1\" is 16 bytes, want 32"},
		{"k1:" + b64A + ",k1:" + b64B, "", nil, "holds KEK id \"k1\" twice"},
	} {
		r, err := ParseKeyringEnv(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseKeyringEnv(%.20q) = %v; want an error containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || r.Current != tc.current || !slices.Equal(r.IDs(), tc.ids) {
			t.Errorf("ParseKeyringEnv(%.20q) = %q %v, %v; want %q %v", tc.in, r.Current, r.IDs(), err, tc.current, tc.ids)
		}
	}
}

func TestKeyringMarshalRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	var r Keyring
	for range 3 {
		k, err := GenerateKEK("", now)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(k.ID, "kek-20261101-") || len(k.ID) != len("kek-20261101-abcd") {
			t.Fatalf("generated id %q", k.ID)
		}
		k.ID += "-" + string(rune('a'+len(r.KEKs)))
		r.KEKs = append(r.KEKs, k)
	}
	r.Current = r.KEKs[1].ID
	text, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseKeyring(text)
	if err != nil {
		t.Fatalf("ParseKeyring(Encode): %v\n%s", err, text)
	}
	if back.Current != r.Current || !slices.EqualFunc(back.KEKs, r.KEKs, kekEqual) {
		t.Fatalf("round trip changed the keyring:\n%s", text)
	}
}

func kekEqual(a, b KEK) bool { return a.ID == b.ID && bytes.Equal(a.Key, b.Key) }

// FuzzParseKeyring: the parser never panics; what it accepts is a valid
// keyring that survives Encode and ParseKeyring unchanged.
func FuzzParseKeyring(f *testing.F) {
	for _, tc := range keyringCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseKeyring([]byte(in))
		if err != nil {
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("accepted an invalid keyring: %v", err)
		}
		text, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseKeyring(text)
		if err != nil || back.Current != r.Current || !slices.EqualFunc(back.KEKs, r.KEKs, kekEqual) {
			t.Fatalf("round trip of %q: %v", in, err)
		}
		if _, err := NewLocal(r); err != nil {
			t.Fatalf("NewLocal refuses a parsed keyring: %v", err)
		}
	})
}

// FuzzParseKeyringEnv: as FuzzParseKeyring for the environment form.
func FuzzParseKeyringEnv(f *testing.F) {
	for _, s := range []string{"k1:" + b64A, "k2:" + b64B + ",k1:" + b64A, "", ":", "k1:" + b64S, "a:b,c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseKeyringEnv(in)
		if err != nil {
			return
		}
		if err := r.Validate(); err != nil || r.Current != r.KEKs[0].ID {
			t.Fatalf("accepted an invalid keyring (%v), current %q", err, r.Current)
		}
	})
}

// Printing or logging a keyring never shows key material.
func TestKeyringPrintsNoKey(t *testing.T) {
	r, err := ParseKeyring([]byte("k1 " + b64A + " current\nk2 " + b64B + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	slog.New(slog.NewTextHandler(&log, nil)).Info("keyring", "ring", r, "kek", r.KEKs[0])
	slog.New(slog.NewJSONHandler(&log, nil)).Info("keyring", "ring", r, "kek", r.KEKs[0])
	for _, s := range []string{fmt.Sprintf("%v", r), fmt.Sprintf("%+v", r), log.String()} {
		if !strings.Contains(s, "KEK k1") {
			t.Errorf("printed keyring %q does not name KEK k1", s)
		}
		for _, secret := range []string{"\xa1\xa1\xa1", "[161 161", b64A[:12], "oaGhoaGh"} {
			if strings.Contains(s, secret) {
				t.Errorf("printed keyring shows key material: %q", s)
			}
		}
	}
}
