package kms

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// KEKSize is the length of a local KEK (AES-256), in bytes.
const KEKSize = 32

// maxKeyringSize bounds a keyring file, in bytes.
const maxKeyringSize = 1 << 20

// KEK is one local key-encryption key.
type KEK struct {
	// ID names the KEK in blobs: 1-64 of [A-Za-z0-9._-].
	ID string
	// Key is the AES-256 key, KEKSize bytes.
	Key []byte
}

// String names the KEK without its key material; LogValue and
// MarshalJSON do the same, so no print, log line or JSON dump shows a key.
func (k KEK) String() string { return "KEK " + k.ID }

// LogValue implements slog.LogValuer: the KEK's name only.
func (k KEK) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalJSON encodes the KEK's name only (see String).
func (k KEK) MarshalJSON() ([]byte, error) { return json.Marshal(k.String()) }

// Keyring is a set of local KEKs. Current encrypts; all decrypt.
type Keyring struct {
	// Current is the id of the KEK new blobs are sealed under.
	Current string
	// KEKs in file order.
	KEKs []KEK
}

// Validate checks ids, key lengths and that Current is in the ring.
func (r Keyring) Validate() error {
	if len(r.KEKs) == 0 {
		return fmt.Errorf("kms: keyring holds no KEK")
	}
	seen := make(map[string]bool, len(r.KEKs))
	for i, k := range r.KEKs {
		if !ValidKEKID(k.ID) {
			return fmt.Errorf("kms: keyring KEK %d: id %q is not 1-%d of [A-Za-z0-9._-]", i+1, k.ID, maxKEKID)
		}
		if seen[k.ID] {
			return fmt.Errorf("kms: keyring holds KEK id %q twice", k.ID)
		}
		seen[k.ID] = true
		if len(k.Key) != KEKSize {
			return fmt.Errorf("kms: keyring KEK %q is %d bytes, want %d (AES-256)", k.ID, len(k.Key), KEKSize)
		}
	}
	if !seen[r.Current] {
		return fmt.Errorf("kms: keyring's current KEK %q is not in the keyring", r.Current)
	}
	return nil
}

// IDs returns the KEK ids in keyring order.
func (r Keyring) IDs() []string {
	ids := make([]string, len(r.KEKs))
	for i, k := range r.KEKs {
		ids[i] = k.ID
	}
	return ids
}

// Encode returns the keyring in the file format, the current KEK marked.
// (Not MarshalText: a keyring must not turn into text by accident, e.g.
// in a log line.)
func (r Keyring) Encode() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("# onair KEK keyring: \"id base64-key [current]\" per line; keep mode 0600.\n")
	b.WriteString("# The current KEK seals new keys; every KEK listed here can open old ones.\n")
	for _, k := range r.KEKs {
		b.WriteString(k.ID)
		b.WriteByte(' ')
		b.WriteString(base64.StdEncoding.EncodeToString(k.Key))
		if k.ID == r.Current {
			b.WriteString(" current")
		}
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// ParseKeyring parses the keyring file format (see the package
// documentation). Errors name the line, never the key material.
func ParseKeyring(data []byte) (Keyring, error) {
	if len(data) > maxKeyringSize {
		return Keyring{}, fmt.Errorf("kms: keyring of %d bytes exceeds %d", len(data), maxKeyringSize)
	}
	var r Keyring
	marked := false
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.FieldsFunc(line, func(c rune) bool { return c == ' ' || c == '\t' })
		if len(f) < 2 || len(f) > 3 {
			return Keyring{}, fmt.Errorf("kms: keyring line %d: want \"id base64-key [current]\", got %d fields", n+1, len(f))
		}
		k, err := parseKEK(f[0], f[1])
		if err != nil {
			return Keyring{}, fmt.Errorf("kms: keyring line %d: %w", n+1, err)
		}
		if len(f) == 3 {
			if f[2] != "current" {
				return Keyring{}, fmt.Errorf("kms: keyring line %d: third field must be \"current\"", n+1)
			}
			if marked {
				return Keyring{}, fmt.Errorf("kms: keyring line %d: a second KEK is marked current (%q and %q)", n+1, r.Current, k.ID)
			}
			marked = true
			r.Current = k.ID
		}
		r.KEKs = append(r.KEKs, k)
	}
	if len(r.KEKs) == 0 {
		return Keyring{}, fmt.Errorf("kms: keyring holds no KEK")
	}
	if !marked {
		r.Current = r.KEKs[0].ID
	}
	if err := r.Validate(); err != nil {
		return Keyring{}, err
	}
	return r, nil
}

// ParseKeyringEnv parses the environment form "id:base64[,id:base64...]"
// (ONAIR_KEK); the first KEK is current.
func ParseKeyringEnv(s string) (Keyring, error) {
	if len(s) > maxKeyringSize {
		return Keyring{}, fmt.Errorf("kms: keyring of %d bytes exceeds %d", len(s), maxKeyringSize)
	}
	var r Keyring
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		id, key, ok := strings.Cut(entry, ":")
		if !ok {
			return Keyring{}, fmt.Errorf("kms: keyring entry %d: want \"id:base64-key\"", i+1)
		}
		k, err := parseKEK(id, key)
		if err != nil {
			return Keyring{}, fmt.Errorf("kms: keyring entry %d: %w", i+1, err)
		}
		r.KEKs = append(r.KEKs, k)
	}
	r.Current = r.KEKs[0].ID
	if err := r.Validate(); err != nil {
		return Keyring{}, err
	}
	return r, nil
}

func parseKEK(id, b64 string) (KEK, error) {
	if !ValidKEKID(id) {
		return KEK{}, fmt.Errorf("KEK id %q is not 1-%d of [A-Za-z0-9._-]", id, maxKEKID)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		// The decoder's error gives only an offset: no key material.
		return KEK{}, fmt.Errorf("KEK %q is not valid standard base64: %w", id, err)
	}
	if len(key) != KEKSize {
		return KEK{}, fmt.Errorf("KEK %q is %d bytes, want %d (AES-256; make one with `head -c 32 /dev/urandom | base64`)", id, len(key), KEKSize)
	}
	return KEK{ID: id, Key: key}, nil
}

// GenerateKEK returns a new random KEK; an empty id is replaced by
// NewKEKID(now).
func GenerateKEK(id string, now time.Time) (KEK, error) {
	if id == "" {
		id = NewKEKID(now)
	}
	if !ValidKEKID(id) {
		return KEK{}, fmt.Errorf("kms: KEK id %q is not 1-%d of [A-Za-z0-9._-]", id, maxKEKID)
	}
	key := make([]byte, KEKSize)
	if _, err := rand.Read(key); err != nil {
		return KEK{}, fmt.Errorf("kms: generate KEK: %w", err)
	}
	return KEK{ID: id, Key: key}, nil
}

// NewKEKID returns an id "kek-YYYYMMDD-xxxx": the UTC date of now and 16
// random bits, so ids sort by creation day and rarely collide.
func NewKEKID(now time.Time) string {
	var r [2]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails (Go 1.24+)
	return "kek-" + now.UTC().Format("20060102") + "-" + hex.EncodeToString(r[:])
}
