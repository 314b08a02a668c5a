package keystore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"onair/internal/kms"
)

// Content key sizes, in bytes.
const (
	// KeySize is the length of a content key (AES-128).
	KeySize = 16
	// IVSize is the length of the IVs Generate makes; Put also accepts 8.
	IVSize = 16
)

// Common protection schemes (ISO/IEC 23001-7 section 4.2).
const (
	SchemeCENC = "cenc" // AES-CTR, full sample
	SchemeCBCS = "cbcs" // AES-CBC pattern, constant IV (HLS SAMPLE-AES, FairPlay)
)

// Key is one content key of a channel.
type Key struct {
	// Channel is the channel name: 1-64 of [A-Za-z0-9_-].
	Channel string
	// KID is the key ID.
	KID KID
	// Value is the AES-128 content key, KeySize bytes.
	Value []byte
	// IV is the initialisation vector (the constant IV for cbcs), 8 or 16
	// bytes, or empty when the packager chooses IVs itself.
	IV []byte
	// Scheme is the protection scheme ("cenc", "cbcs", "aes128"): 1-16
	// of [a-z0-9-].
	Scheme string
	// Period is the first segment number the key applies to (key
	// rotation); 0 for the channel's first key.
	Period int64
	// Created is when the key was made (set by Put when zero).
	Created time.Time
}

// String describes the key without its value or IV.
func (k Key) String() string {
	return fmt.Sprintf("key %s of channel %s (%s, period %d)", k.KID, k.Channel, k.Scheme, k.Period)
}

// LogValue implements slog.LogValuer: the key's identity, never its value
// or IV.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("channel", k.Channel), slog.String("kid", k.KID.String()),
		slog.String("scheme", k.Scheme), slog.Int64("period", k.Period))
}

// Validate checks a key's fields.
func (k Key) Validate() error {
	var errs []error
	if !validChannel(k.Channel) {
		errs = append(errs, fmt.Errorf("channel %q is not 1-64 of [A-Za-z0-9_-]", k.Channel))
	}
	if len(k.Value) != KeySize {
		errs = append(errs, fmt.Errorf("key is %d bytes, want %d", len(k.Value), KeySize))
	}
	if n := len(k.IV); n != 0 && n != 8 && n != 16 {
		errs = append(errs, fmt.Errorf("IV is %d bytes, want 0, 8 or 16", n))
	}
	if !validScheme(k.Scheme) {
		errs = append(errs, fmt.Errorf("scheme %q is not 1-16 of [a-z0-9-]", k.Scheme))
	}
	if k.Period < 0 {
		errs = append(errs, fmt.Errorf("period %d is negative", k.Period))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("keystore: key %s: %w", k.KID, err)
	}
	return nil
}

// sameSecret reports whether two keys of one KID carry the same content.
func (k Key) sameSecret(o Key) bool {
	return bytes.Equal(k.Value, o.Value) && bytes.Equal(k.IV, o.IV) && k.Scheme == o.Scheme && k.Period == o.Period
}

func (k Key) clone() Key {
	k.Value = bytes.Clone(k.Value)
	k.IV = bytes.Clone(k.IV)
	return k
}

// kvKey is the bucket key of a channel's key.
func kvKey(channel string, kid KID) string { return channel + "." + kid.String() }

// aad binds a sealed key to its channel, key ID, scheme and period.
func aad(channel string, kid KID, scheme string, period int64) []byte {
	return []byte("onair-keystore-v1\n" + channel + "\n" + kid.String() + "\n" + scheme + "\n" + strconv.FormatInt(period, 10))
}

// record is the stored JSON form of a Key.
type record struct {
	Version int       `json:"v"`
	Channel string    `json:"channel"`
	KID     string    `json:"kid"`
	Scheme  string    `json:"scheme"`
	Period  int64     `json:"period"`
	Created time.Time `json:"created"`
	// Sealed is the kms blob of Value||IV.
	Sealed []byte `json:"sealed"`
}

const recordVersion = 1

// decodeRecord parses and checks a stored record read under kvk.
func decodeRecord(kvk string, data []byte) (record, KID, error) {
	var r record
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&r); err != nil {
		return record{}, KID{}, fmt.Errorf("keystore: record %s: %w", kvk, err)
	}
	if d.More() {
		return record{}, KID{}, fmt.Errorf("keystore: record %s: data after the JSON object", kvk)
	}
	if r.Version != recordVersion {
		return record{}, KID{}, fmt.Errorf("keystore: record %s: version %d, this build reads %d", kvk, r.Version, recordVersion)
	}
	kid, err := ParseKID(r.KID)
	if err != nil || r.KID != kid.String() {
		return record{}, KID{}, fmt.Errorf("keystore: record %s: key ID %q is not 32 lowercase hex digits", kvk, r.KID)
	}
	if !validChannel(r.Channel) || kvKey(r.Channel, kid) != kvk {
		return record{}, KID{}, fmt.Errorf("keystore: record %s: channel %q and key ID %s do not match its name", kvk, r.Channel, r.KID)
	}
	if !validScheme(r.Scheme) || r.Period < 0 {
		return record{}, KID{}, fmt.Errorf("keystore: record %s: bad scheme %q or period %d", kvk, r.Scheme, r.Period)
	}
	if _, err := kms.ParseBlob(r.Sealed); err != nil {
		return record{}, KID{}, fmt.Errorf("keystore: record %s: sealed key: %w", kvk, err)
	}
	return r, kid, nil
}

func validChannel(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func validScheme(s string) bool {
	return s != "" && len(s) <= 16 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}
