package tenant

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// A valid key: id 0123456789abcdef, secret bytes 0..31.
const sampleKey = "onair_0123456789abcdef_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"

// keyCases feed both TestParseKey and FuzzParseKey's seeds.
var keyCases = []struct {
	name string
	in   string
	ok   bool
}{
	{"valid", sampleKey, true},
	{"valid with _ and - in the secret", "onair_ffffffffffffffff_" + strings.Repeat("-_", 21) + "8", true},
	{"empty", "", false},
	{"prefix only", "onair_", false},
	{"one short", sampleKey[:len(sampleKey)-1], false},
	{"one long", sampleKey + "A", false},
	{"padded", sampleKey[:len(sampleKey)-1] + "=", false},
	{"other prefix", "ONAIR" + sampleKey[5:], false},
	{"upper-case id", "onair_0123456789ABCDEF" + sampleKey[22:], false},
	{"non-hex id", "onair_0123456789abcdeg" + sampleKey[22:], false},
	{"no separator", "onair_0123456789abcdef-" + sampleKey[23:], false},
	{"standard base64 alphabet", sampleKey[:len(sampleKey)-2] + "+/", false},
	{"non-canonical last character", sampleKey[:len(sampleKey)-1] + "9", false}, // same bytes as "8"
	{"space inside", sampleKey[:40] + " " + sampleKey[41:], false},
	{"multi-byte UTF-8", "onair_0123456789abcdef_" + strings.Repeat("é", 21) + "A", false},
}

func TestParseKey(t *testing.T) {
	for _, c := range keyCases {
		t.Run(c.name, func(t *testing.T) {
			id, secret, err := parseKey(c.in)
			if (err == nil) != c.ok {
				t.Fatalf("parseKey: %v, want ok=%v", err, c.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Errorf("error %v does not wrap ErrMalformed", err)
				}
				return
			}
			if got := formatKey(id, secret); got != c.in {
				t.Errorf("formatKey(parseKey(x)) = %q, want x", got)
			}
		})
	}
}

func TestNewKeyMaterialRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id, secret := newKeyMaterial()
		if seen[id] {
			t.Fatalf("id %s drawn twice", id)
		}
		seen[id] = true
		k := formatKey(id, secret)
		gid, gsecret, err := parseKey(k)
		if err != nil || gid != id || !bytes.Equal(gsecret, secret) {
			t.Fatalf("parseKey(%q) = %q, %x, %v", k, gid, gsecret, err)
		}
	}
}

// FuzzParseKey: no input panics; every error is ErrMalformed and quotes no
// part of the secret; every accepted input is the canonical spelling of
// its id and secret.
func FuzzParseKey(f *testing.F) {
	for _, c := range keyCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		id, secret, err := parseKey(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if len(in) >= 23+8 && strings.Contains(err.Error(), in[23:]) {
				t.Fatalf("error %q quotes the input's secret part", err)
			}
			return
		}
		if !validKeyID(id) || len(secret) != secretBytes {
			t.Fatalf("accepted id %q, %d-byte secret", id, len(secret))
		}
		if got := formatKey(id, secret); got != in {
			t.Fatalf("accepted %q but its canonical form is %q", in, got)
		}
	})
}

func TestHashSecretBindsID(t *testing.T) {
	_, secret := newKeyMaterial()
	if bytes.Equal(hashSecret("0123456789abcdef", secret), hashSecret("0123456789abcdee", secret)) {
		t.Error("the same secret under two ids hashes alike: a record could verify another key")
	}
	if !hashesEqual(hashSecret("0123456789abcdef", secret), hashSecret("0123456789abcdef", secret)) {
		t.Error("hash is not deterministic")
	}
}

// TestCacheBounds: the cache never holds more than its size, prefers to
// evict expired entries, and forgets entries after the TTL.
func TestCacheBounds(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newVerifiedCache(5*time.Second, 3)
	key := func(id, tenant string) APIKey { return APIKey{ID: id, Tenant: tenant} }
	c.put(key("a", "acme"), t0)
	c.put(key("b", "acme"), t0.Add(2*time.Second))
	c.put(key("c", "beta"), t0.Add(2*time.Second))
	c.put(key("d", "beta"), t0.Add(6*time.Second)) // a expired: it goes
	if c.len() != 3 {
		t.Fatalf("len %d, want 3", c.len())
	}
	now := t0.Add(6 * time.Second)
	for id, want := range map[string]bool{"a": false, "b": true, "c": true, "d": true} {
		if _, ok := c.get(id, now); ok != want {
			t.Errorf("get(%s) = %v, want %v", id, ok, want)
		}
	}
	c.put(key("e", "beta"), now) // full, none expired: one goes
	if c.len() != 3 {
		t.Errorf("len %d after a put into a full cache, want 3", c.len())
	}
	if _, ok := c.get("e", now); !ok {
		t.Error("the newest entry was evicted")
	}
	if _, ok := c.get("e", now.Add(5*time.Second)); ok {
		t.Error("entry outlived the TTL")
	}
	c.dropTenant("beta")
	for _, id := range []string{"c", "d", "e"} {
		if _, ok := c.get(id, now); ok {
			t.Errorf("%s survived dropTenant(beta)", id)
		}
	}
	off := newVerifiedCache(-1, 3)
	off.put(key("a", "acme"), t0)
	if _, ok := off.get("a", t0); ok || off.len() != 0 {
		t.Error("a disabled cache remembered a key")
	}
}
