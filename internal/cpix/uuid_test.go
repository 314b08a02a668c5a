package cpix

import (
	"strings"
	"testing"
)

var uuidCases = []struct {
	in, want, err string
}{
	{in: "873f3740-2508-4a2d-94bc-9b0f86649251", want: "873f3740-2508-4a2d-94bc-9b0f86649251"},
	{in: "E2719D58-A985-B3C9-781A-B030AF78D30E", want: "e2719d58-a985-b3c9-781a-b030af78d30e"},
	{in: "00000000-0000-0000-0000-000000000000", want: "00000000-0000-0000-0000-000000000000"},
	{in: "", err: "want 36 characters, have 0"},
	{in: "873f37402508-4a2d-94bc-9b0f86649251", err: "want 36 characters, have 35"},
	{in: "873f3740-2508-4a2d-94bc-9b0f866492511", err: "want 36 characters"},
	{in: "{73f3740-2508-4a2d-94bc-9b0f8664925}", err: "not a hexadecimal digit at offset 0"},
	{in: "873f3740_2508-4a2d-94bc-9b0f86649251", err: "want '-' at offset 8"},
	{in: "873f3740-2508-4a2d-94bc-9b0f8664925g", err: "not a hexadecimal digit at offset 34"},
	{in: "873f3740-2508-4a2d-94bc-9b0f8664925-", err: "not a hexadecimal digit at offset 34"},
	{in: "873f3740-2508-4a2d-94bc+9b0f86649251", err: "want '-' at offset 23"},
	{in: "873f3740-2508-4a2d-94bc-9b0f866492\u00e9", err: "not a hexadecimal digit"},
}

func TestParseUUID(t *testing.T) {
	for _, tc := range uuidCases {
		u, err := ParseUUID(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseUUID(%q) = %v, %v; want error %q", tc.in, u, err, tc.err)
			}
			continue
		}
		if err != nil || u.String() != tc.want {
			t.Errorf("ParseUUID(%q) = %v, %v; want %s", tc.in, u, err, tc.want)
		}
	}
}

func TestUUIDBytes(t *testing.T) {
	u := mustUUID(t, "01020304-0506-0708-090a-0b0c0d0e0f10")
	if u != (UUID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}) {
		t.Errorf("bytes %x, want big-endian 0102...10", u[:])
	}
	if u.Hex() != "0102030405060708090a0b0c0d0e0f10" {
		t.Errorf("Hex = %s", u.Hex())
	}
	var kid [16]byte = u // a KID converts both ways without copying helpers
	if UUID(kid).String() != "01020304-0506-0708-090a-0b0c0d0e0f10" {
		t.Error("conversion changed the value")
	}
}

func FuzzParseUUID(f *testing.F) {
	for _, tc := range uuidCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUUID(s)
		if err != nil {
			return
		}
		if !strings.EqualFold(u.String(), s) {
			t.Fatalf("ParseUUID(%q) = %s", s, u)
		}
	})
}

func TestSystemName(t *testing.T) {
	for id, want := range map[string]string{
		ClearKeySystemID: "W3C Clear Key", strings.ToUpper(WidevineSystemID): "Widevine",
		PlayReadySystemID: "PlayReady", FairPlaySystemID: "FairPlay", CommonSystemID: "W3C Common PSSH",
		ClearKeyAES128SystemID: "Clear Key AES-128", HLSAES128SystemID: "HLS AES-128", "x": "unknown",
	} {
		if got := SystemName(id); got != want {
			t.Errorf("SystemName(%s) = %q, want %q", id, got, want)
		}
	}
}
