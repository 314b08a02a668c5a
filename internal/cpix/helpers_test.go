package cpix

import (
	"bytes"
	"testing"
)

// Test key IDs and key values.
const (
	kidVideo = "873f3740-2508-4a2d-94bc-9b0f86649251"
	kidAudio = "0c54f2b0-b433-45a4-ae73-664438bb0b4e"
	keyVideo = "AAECAwQFBgcICQoLDA0ODw==" // 00 01 ... 0f
	keyAudio = "EBESExQVFhcYGRobHB0eHw==" // 10 11 ... 1f
	ivVideo  = "8PHy8/T19vf4+fr7/P3+/w==" // f0 ... ff
)

func ptr(s string) *string { return &s }

func mustUUID(t testing.TB, s string) UUID {
	t.Helper()
	u, err := ParseUUID(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// requestDoc is a SPEKE v2 style request: two keys, Clear Key signaling
// asked for each, one key period, a usage rule per key.
func requestDoc() *Document {
	return &Document{
		ContentID: "news",
		Version:   Version,
		ContentKeys: []ContentKey{
			{KID: kidVideo, CommonEncryptionScheme: SchemeCBCS},
			{KID: kidAudio, CommonEncryptionScheme: SchemeCBCS},
		},
		DRMSystems: []DRMSystem{
			{KID: kidVideo, SystemID: ClearKeySystemID, PSSH: ptr(""), ContentProtectionData: ptr(""),
				HLSSignalingData: []HLSSignalingData{{Playlist: PlaylistMedia}, {Playlist: PlaylistMaster}}},
			{KID: kidAudio, SystemID: ClearKeySystemID, PSSH: ptr(""), ContentProtectionData: ptr(""),
				HLSSignalingData: []HLSSignalingData{{Playlist: PlaylistMedia}, {Playlist: PlaylistMaster}}},
		},
		ContentKeyPeriods: []ContentKeyPeriod{{ID: "keyPeriod_0", Index: "0"}},
		UsageRules: []ContentKeyUsageRule{
			{KID: kidVideo, IntendedTrackType: "VIDEO", KeyPeriodFilters: []KeyPeriodFilter{{PeriodID: "keyPeriod_0"}},
				VideoFilters: []VideoFilter{{}}},
			{KID: kidAudio, IntendedTrackType: "AUDIO", KeyPeriodFilters: []KeyPeriodFilter{{PeriodID: "keyPeriod_0"}},
				AudioFilters: []AudioFilter{{}}},
		},
	}
}

// responseDoc is requestDoc filled in by a key provider.
func responseDoc(t testing.TB) *Document {
	d := requestDoc()
	d.ContentKeys[0].Data = &KeyData{Secret: Secret{PlainValue: ptr(keyVideo)}}
	d.ContentKeys[0].ExplicitIV = ivVideo
	d.ContentKeys[1].Data = &KeyData{Secret: Secret{PlainValue: ptr(keyAudio)}}
	for i := range d.DRMSystems {
		s := &d.DRMSystems[i]
		pssh := EncodeBase64(ClearKeyPSSH(mustUUID(t, s.KID)))
		s.PSSH = &pssh
		s.ContentProtectionData = ptr(EncodeBase64([]byte(`<cenc:pssh xmlns:cenc="urn:mpeg:cenc:2013">` + pssh + `</cenc:pssh>`)))
		s.HLSSignalingData[0].Value = EncodeBase64([]byte(`#EXT-X-KEY:METHOD=SAMPLE-AES,URI="https://lic.example/news/clearkey",KEYFORMAT="org.w3.clearkey",KEYFORMATVERSIONS="1"`))
		s.HLSSignalingData[1].Value = EncodeBase64([]byte(`#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="https://lic.example/news/clearkey",KEYFORMAT="org.w3.clearkey",KEYFORMATVERSIONS="1"`))
	}
	return d
}

func mustMarshal(t testing.TB, d *Document) []byte {
	t.Helper()
	b, err := Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func contains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
