package keystore

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"onair/internal/kms"
)

// sealedSample is a syntactically valid kms blob (not decryptable).
var sealedSample = func() []byte {
	b, err := kms.Blob{Backend: "local", KEKID: "k1", Nonce: make([]byte, 12), Sealed: make([]byte, 32)}.Marshal()
	if err != nil {
		panic(err)
	}
	return b
}()

func recordJSON(mod func(map[string]any)) string {
	m := map[string]any{"v": 1, "channel": "news", "kid": "0123456789abcdef0123456789abcdef",
		"scheme": "cbcs", "period": 100, "created": time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), "sealed": sealedSample}
	if mod != nil {
		mod(m)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

const sampleKVKey = "news.0123456789abcdef0123456789abcdef"

var recordCases = []struct {
	name string
	kvk  string
	in   string
	err  string
}{
	{"ok", sampleKVKey, recordJSON(nil), ""},
	{"not json", sampleKVKey, "sealed", "invalid character"},
	{"trailing", sampleKVKey, recordJSON(nil) + "{}", "data after the JSON object"},
	{"unknown field", sampleKVKey, recordJSON(func(m map[string]any) { m["key"] = "00" }), "unknown field \"key\""},
	{"version", sampleKVKey, recordJSON(func(m map[string]any) { m["v"] = 2 }), "version 2"},
	{"upper kid", sampleKVKey, recordJSON(func(m map[string]any) { m["kid"] = "0123456789ABCDEF0123456789ABCDEF" }), "not 32 lowercase hex"},
	{"other channel", sampleKVKey, recordJSON(func(m map[string]any) { m["channel"] = "sports" }), "do not match its name"},
	{"other kid", "news.ffffffffffffffffffffffffffffffff", recordJSON(nil), "do not match its name"},
	{"bad scheme", sampleKVKey, recordJSON(func(m map[string]any) { m["scheme"] = "CBCS" }), "bad scheme"},
	{"negative period", sampleKVKey, recordJSON(func(m map[string]any) { m["period"] = -1 }), "period -1"},
	{"no sealed", sampleKVKey, recordJSON(func(m map[string]any) { delete(m, "sealed") }), "sealed key: kms: not a blob"},
	{"sealed not a blob", sampleKVKey, recordJSON(func(m map[string]any) { m["sealed"] = []byte("0123456789abcdef") }), "not a blob"},
}

func TestDecodeRecord(t *testing.T) {
	for _, tc := range recordCases {
		t.Run(tc.name, func(t *testing.T) {
			r, kid, err := decodeRecord(tc.kvk, []byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("decodeRecord = %+v, %v; want an error containing %q", r, err, tc.err)
				}
				return
			}
			if err != nil || kid.String() != r.KID || r.Channel != "news" || r.Period != 100 {
				t.Fatalf("decodeRecord = %+v %s, %v", r, kid, err)
			}
		})
	}
}

// FuzzDecodeRecord: never panics; what it accepts is consistent with its
// bucket key and re-encodes to a record it accepts again.
func FuzzDecodeRecord(f *testing.F) {
	for _, tc := range recordCases {
		f.Add(tc.kvk, tc.in)
	}
	f.Fuzz(func(t *testing.T, kvk, in string) {
		r, kid, err := decodeRecord(kvk, []byte(in))
		if err != nil {
			return
		}
		if kvKey(r.Channel, kid) != kvk {
			t.Fatalf("accepted record %+v under %q", r, kvk)
		}
		data, err := encodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := decodeRecord(kvk, data); err != nil {
			t.Fatalf("re-encoded record refused: %v", err)
		}
	})
}
