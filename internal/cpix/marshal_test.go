package cpix

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestMarshalGolden(t *testing.T) {
	for _, tc := range []struct {
		file string
		doc  func(testing.TB) *Document
	}{
		{"request.golden.xml", func(testing.TB) *Document { return requestDoc() }},
		{"response.golden.xml", responseDoc},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := mustMarshal(t, tc.doc(t))
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Fatalf("Marshal differs from %s (run with -update after checking):\n%s", path, got)
			}
		})
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, d := range []*Document{requestDoc(), responseDoc(t), {ContentID: `a"b<c>&'`, Version: "2.3"}} {
		b := mustMarshal(t, d)
		back, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(Marshal): %v\n%s", err, b)
		}
		back.XMLName = d.XMLName
		if !reflect.DeepEqual(back, d) {
			t.Fatalf("round trip changed the document:\n%+v\nwant\n%+v", back, d)
		}
	}
}

func TestMarshalPrefixes(t *testing.T) {
	b := mustMarshal(t, responseDoc(t))
	for _, want := range []string{
		`<?xml version="1.0" encoding="UTF-8"?>`,
		`<cpix:CPIX xmlns:cpix="urn:dashif:org:cpix" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc" contentId="news" version="2.3">`,
		`<pskc:PlainValue>` + keyVideo + `</pskc:PlainValue>`,
		`<cpix:ContentKey kid="` + kidVideo + `" commonEncryptionScheme="cbcs" explicitIV="` + ivVideo + `">`,
	} {
		if !contains(b, want) {
			t.Errorf("output lacks %s:\n%s", want, b)
		}
	}
}

func TestMarshalRefusesEncryptedDelivery(t *testing.T) {
	d := responseDoc(t)
	d.DeliveryDataList = &Opaque{}
	if _, err := Marshal(d); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Marshal with DeliveryDataList: %v, want ErrUnsupported", err)
	}
	d = responseDoc(t)
	d.ContentKeys[1].Data.Secret = Secret{EncryptedValue: &Opaque{}}
	if _, err := Marshal(d); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Marshal with EncryptedValue: %v, want ErrUnsupported", err)
	}
}

func TestContentKeyAccessors(t *testing.T) {
	d := responseDoc(t)
	k := d.Key(mustUUID(t, kidVideo))
	if k == nil {
		t.Fatal("Key(kidVideo) = nil")
	}
	v, err := k.Value()
	if err != nil || len(v) != 16 || v[1] != 1 {
		t.Fatalf("Value = %x, %v", v, err)
	}
	iv, err := k.IV()
	if err != nil || len(iv) != 16 || iv[0] != 0xf0 {
		t.Fatalf("IV = %x, %v", iv, err)
	}
	if iv, err := d.Key(mustUUID(t, kidAudio)).IV(); iv != nil || err != nil {
		t.Errorf("IV of a key without explicitIV = %x, %v", iv, err)
	}
	if d.Key(UUID{1}) != nil {
		t.Error("Key of an unknown kid is not nil")
	}
	req := requestDoc()
	if _, err := req.ContentKeys[0].Value(); err == nil {
		t.Error("Value of an unfilled key: no error")
	}
	req.ContentKeys[0].SetValue(make([]byte, 16), nil)
	if v, err := req.ContentKeys[0].Value(); err != nil || len(v) != 16 || req.ContentKeys[0].ExplicitIV != "" {
		t.Errorf("after SetValue: %x, %v, iv %q", v, err, req.ContentKeys[0].ExplicitIV)
	}
	s := d.DRMSystem(mustUUID(t, ClearKeySystemID), mustUUID(t, kidAudio))
	if s == nil || s.KID != kidAudio {
		t.Fatalf("DRMSystem = %+v", s)
	}
	if s.HLS(PlaylistMaster) == nil || s.HLS(PlaylistMedia) == nil || s.HLS("other") != nil {
		t.Error("HLS lookup wrong")
	}
	if d.DRMSystem(mustUUID(t, WidevineSystemID), mustUUID(t, kidAudio)) != nil {
		t.Error("DRMSystem of an absent system is not nil")
	}
}
