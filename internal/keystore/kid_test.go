package keystore

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

var kidCases = []struct {
	in   string
	want string // String(); "" for an error
}{
	{"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"},
	{"0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcdef"},
	{"01234567-89ab-cdef-0123-456789abcdef", "0123456789abcdef0123456789abcdef"},
	{"", ""},
	{"0123456789abcdef0123456789abcde", ""},
	{"0123456789abcdef0123456789abcdeg", ""},
	{"01234567-89ab-cdef-0123_456789abcdef", ""},
	{"0123456789-abcdef-0123-456789abcdef", ""},
	{"0123456789abcdef0123456789abcdef00", ""},
	{"+1234567-89ab-cdef-0123-456789abcdef", ""},
}

func TestParseKID(t *testing.T) {
	for _, tc := range kidCases {
		k, err := ParseKID(tc.in)
		if tc.want == "" {
			if err == nil || !strings.Contains(err.Error(), "want 32 hex digits or a UUID") {
				t.Errorf("ParseKID(%q) = %s, %v; want an error", tc.in, k, err)
			}
			continue
		}
		if err != nil || k.String() != tc.want {
			t.Errorf("ParseKID(%q) = %s, %v; want %s", tc.in, k, err, tc.want)
		}
	}
	k, _ := ParseKID("0123456789abcdef0123456789abcdef")
	if got := k.UUID(); got != "01234567-89ab-cdef-0123-456789abcdef" {
		t.Errorf("UUID = %s", got)
	}
}

func TestNewKID(t *testing.T) {
	a, err := NewKID()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewKID()
	if a == b {
		t.Fatal("two random key IDs are equal")
	}
	if u := a.UUID(); u[14] != '4' || !strings.ContainsRune("89ab", rune(u[19])) {
		t.Fatalf("%s is not a version 4 UUID", u)
	}
}

// FuzzParseKID: never panics; what parses prints back in one of the
// accepted forms.
func FuzzParseKID(f *testing.F) {
	for _, tc := range kidCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKID(s)
		if err != nil {
			return
		}
		if l := strings.ToLower(s); l != k.String() && l != k.UUID() {
			t.Fatalf("ParseKID(%q) = %s", s, k)
		}
	})
}

func TestKeyPrintsNoSecret(t *testing.T) {
	k := Key{Channel: "news", KID: KID{0xab}, Value: []byte("SECRET-KEY-16-B!"), IV: []byte("IV-SIXTEEN-BYTES"), Scheme: SchemeCBCS, Period: 7}
	var log strings.Builder
	slog.New(slog.NewTextHandler(&log, nil)).Info("key", "key", k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v", k), log.String()} {
		if !strings.Contains(s, "ab000000000000000000000000000000") || strings.Contains(s, "SECRET") || strings.Contains(s, "SIXTEEN") ||
			strings.Contains(s, "83 69 67") {
			t.Errorf("printed key %q: want the key ID and no secret", s)
		}
	}
}
