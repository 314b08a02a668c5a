package cpix

import (
	"errors"
	"strings"
	"testing"
)

// validateCases mutate a valid response; want is a substring of the one
// problem Validate must report ("" for a valid document).
var validateCases = []struct {
	name   string
	mutate func(d *Document)
	want   string
}{
	{"valid response", func(d *Document) {}, ""},
	{"valid request (empty elements)", func(d *Document) { *d = *requestDoc() }, ""},
	{"valid without optional lists", func(d *Document) { d.DRMSystems, d.ContentKeyPeriods, d.UsageRules = nil, nil, nil }, ""},
	{"valid period with start and end", func(d *Document) {
		d.ContentKeyPeriods[0] = ContentKeyPeriod{ID: "keyPeriod_0", Start: "2026-01-01T00:00:00Z", End: "2026-01-01T00:10:00"}
	}, ""},
	{"valid filters", func(d *Document) {
		d.UsageRules[0].VideoFilters[0] = VideoFilter{MinPixels: "589825", MaxPixels: "921600", HDR: "false", MinFPS: "24", MaxFPS: "60"}
		d.UsageRules[1].AudioFilters[0] = AudioFilter{MinChannels: "3", MaxChannels: "6"}
	}, ""},
	{"valid uppercase uuid", func(d *Document) { d.DRMSystems[0].SystemID = strings.ToUpper(ClearKeySystemID) }, ""},
	{"valid playlist absent means media", func(d *Document) { d.DRMSystems[0].HLSSignalingData[0].Playlist = "" }, ""},
	{"valid whitespace in base64", func(d *Document) {
		*d.DRMSystems[0].PSSH = (*d.DRMSystems[0].PSSH)[:20] + "\n  " + (*d.DRMSystems[0].PSSH)[20:]
	}, ""},

	{"version missing", func(d *Document) { d.Version = "" }, `CPIX@version is "", want "2.3"`},
	{"version 2.2", func(d *Document) { d.Version = "2.2" }, `CPIX@version is "2.2", want "2.3"`},
	{"contentId missing", func(d *Document) { d.ContentID = "" }, "CPIX@contentId is missing"},
	{"no content key", func(d *Document) { d.ContentKeys = nil; d.DRMSystems = nil; d.UsageRules = nil }, "no ContentKey"},
	{"key kid missing", func(d *Document) { dropAudioRefs(d); d.ContentKeys[1].KID = "" }, "ContentKey[1]@kid is missing"},
	{"key kid not a uuid", func(d *Document) { dropAudioRefs(d); d.ContentKeys[1].KID = "0c54f2b0b43345a4ae73664438bb0b4e" }, "ContentKey[1]@kid: uuid"},
	{"key kid bad hex", func(d *Document) { dropAudioRefs(d); d.ContentKeys[1].KID = "0c54f2b0-b433-45a4-ae73-664438bb0bXe" }, "not a hexadecimal digit"},
	{"duplicate kid", func(d *Document) {
		dropAudioRefs(d)
		d.ContentKeys[1].KID = strings.ToUpper(kidVideo)
	}, "ContentKey[1]@kid " + kidVideo + " is listed twice"},
	{"scheme missing", func(d *Document) { d.ContentKeys[0].CommonEncryptionScheme = "" }, "ContentKey[0]@commonEncryptionScheme is missing"},
	{"scheme unknown", func(d *Document) { d.ContentKeys[0].CommonEncryptionScheme = "CBCS" }, `commonEncryptionScheme is "CBCS", want cenc, cbcs, cbc1 or cens`},
	{"explicitIV short", func(d *Document) { d.ContentKeys[0].ExplicitIV = "AAECAw==" }, "ContentKey[0]@explicitIV: want 16 bytes, base64 holds 4"},
	{"explicitIV not base64", func(d *Document) { d.ContentKeys[0].ExplicitIV = "!!" }, "ContentKey[0]@explicitIV: not base64"},
	{"key value short", func(d *Document) { *d.ContentKeys[1].Data.Secret.PlainValue = "AAECAwQFBgcICQoLDA0O" }, "ContentKey[1]: PlainValue: want 16 bytes, base64 holds 15"},
	{"key value long", func(d *Document) { *d.ContentKeys[1].Data.Secret.PlainValue = keyVideo[:22] + keyAudio }, "ContentKey[1]: PlainValue"},
	{"key value not base64", func(d *Document) { *d.ContentKeys[1].Data.Secret.PlainValue = "key!" }, "ContentKey[1]: PlainValue: not base64"},
	{"key value empty", func(d *Document) { *d.ContentKeys[1].Data.Secret.PlainValue = "" }, "ContentKey[1]: PlainValue: want 16 bytes, base64 holds 0"},
	{"secret empty", func(d *Document) { d.ContentKeys[1].Data.Secret = Secret{} }, "ContentKey[1]: Data/Secret has neither PlainValue nor EncryptedValue"},
	{"secret both", func(d *Document) { d.ContentKeys[1].Data.Secret.EncryptedValue = &Opaque{} }, "Data/Secret has both"},
	{"drm kid missing", func(d *Document) { d.DRMSystems[1].KID = "" }, "DRMSystem[1]@kid is missing"},
	{"drm kid names no key", func(d *Document) { d.DRMSystems[1].KID = "11111111-2222-3333-4444-555555555555" }, "DRMSystem[1]@kid 11111111-2222-3333-4444-555555555555 names no ContentKey"},
	{"drm systemId missing", func(d *Document) { d.DRMSystems[0].SystemID = "" }, "DRMSystem[0]@systemId is missing"},
	{"drm systemId not a uuid", func(d *Document) { d.DRMSystems[0].SystemID = "urn:uuid:" + ClearKeySystemID }, "DRMSystem[0]@systemId: uuid"},
	{"drm duplicate", func(d *Document) { d.DRMSystems[1].KID = kidVideo }, "DRMSystem[1]: a second DRMSystem for systemId " + ClearKeySystemID},
	{"pssh not base64", func(d *Document) { *d.DRMSystems[0].PSSH = "pssh!" }, "DRMSystem[0]: PSSH: not base64"},
	{"pssh not a box", func(d *Document) { *d.DRMSystems[0].PSSH = keyVideo }, "DRMSystem[0]: PSSH: cpix: malformed: pssh: 16 bytes"},
	{"content protection not base64", func(d *Document) { *d.DRMSystems[0].ContentProtectionData = "<pssh/>" }, "DRMSystem[0]: ContentProtectionData: not base64"},
	{"smooth header not base64", func(d *Document) { d.DRMSystems[0].SmoothStreamingProtectionHeaderData = ptr("<x>") }, "SmoothStreamingProtectionHeaderData: not base64"},
	{"hls playlist unknown", func(d *Document) { d.DRMSystems[0].HLSSignalingData[1].Playlist = "variant" }, `DRMSystem[0]: HLSSignalingData[1]@playlist is "variant"`},
	{"hls playlist twice", func(d *Document) { d.DRMSystems[0].HLSSignalingData[1].Playlist = "media" }, `a second HLSSignalingData for playlist "media"`},
	{"hls not base64", func(d *Document) { d.DRMSystems[0].HLSSignalingData[0].Value = "#EXT-X-KEY:METHOD=AES-128" }, "DRMSystem[0]: HLSSignalingData[0]: not base64"},
	{"period id missing", func(d *Document) { d.ContentKeyPeriods = append(d.ContentKeyPeriods, ContentKeyPeriod{Index: "1"}) }, "ContentKeyPeriod[1]@id is missing"},
	{"period id twice", func(d *Document) {
		d.ContentKeyPeriods = append(d.ContentKeyPeriods, ContentKeyPeriod{ID: "keyPeriod_0", Index: "1"})
	}, `ContentKeyPeriod[1]@id "keyPeriod_0" is used twice`},
	{"period index not a number", func(d *Document) { d.ContentKeyPeriods[0].Index = "-1" }, `ContentKeyPeriod[0]@index "-1" is not an unsigned decimal number`},
	{"period without index or times", func(d *Document) { d.ContentKeyPeriods[0].Index = "" }, "ContentKeyPeriod[0] has neither index nor start and end"},
	{"period start after end", func(d *Document) {
		d.ContentKeyPeriods[0] = ContentKeyPeriod{ID: "keyPeriod_0", Start: "2026-01-01T00:10:00Z", End: "2026-01-01T00:00:00Z"}
	}, "ContentKeyPeriod[0]: start 2026-01-01T00:10:00Z is not before end"},
	{"period bad time", func(d *Document) {
		d.ContentKeyPeriods[0] = ContentKeyPeriod{ID: "keyPeriod_0", Start: "yesterday", End: "2026-01-01T00:00:00Z"}
	}, `ContentKeyPeriod[0]@start: "yesterday" is not an xs:dateTime`},
	{"rule kid missing", func(d *Document) { d.UsageRules[0].KID = "" }, "ContentKeyUsageRule[0]@kid is missing"},
	{"rule kid names no key", func(d *Document) { d.UsageRules[1].KID = "11111111-2222-3333-4444-555555555555" }, "ContentKeyUsageRule[1]@kid 11111111-2222-3333-4444-555555555555 names no ContentKey"},
	{"rule track type missing", func(d *Document) { d.UsageRules[1].IntendedTrackType = "" }, "ContentKeyUsageRule[1]@intendedTrackType is missing"},
	{"rule track type unknown", func(d *Document) { d.UsageRules[1].IntendedTrackType = "audio" }, `ContentKeyUsageRule[1]@intendedTrackType "audio" is not one of ALL, VIDEO`},
	{"rule period missing", func(d *Document) { d.UsageRules[1].KeyPeriodFilters[0].PeriodID = "keyPeriod_9" }, `ContentKeyUsageRule[1]: KeyPeriodFilter[0]@periodId "keyPeriod_9" names no ContentKeyPeriod`},
	{"rule period without periods", func(d *Document) { d.ContentKeyPeriods = nil; d.UsageRules = d.UsageRules[:1] }, `KeyPeriodFilter[0]@periodId "keyPeriod_0" names no ContentKeyPeriod`},
	{"video filter min above max", func(d *Document) {
		d.UsageRules[0].VideoFilters[0] = VideoFilter{MinPixels: "921601", MaxPixels: "921600"}
	}, "VideoFilter[0]: minPixels 921601 is above maxPixels 921600"},
	{"video filter bad number", func(d *Document) { d.UsageRules[0].VideoFilters[0].MaxFPS = "fast" }, `VideoFilter[0]@maxFps "fast" is not a non-negative number`},
	{"video filter bad hdr", func(d *Document) { d.UsageRules[0].VideoFilters[0].HDR = "yes" }, `VideoFilter[0]@hdr "yes" is not a boolean`},
	{"audio filter negative", func(d *Document) { d.UsageRules[1].AudioFilters[0].MinChannels = "-2" }, `AudioFilter[0]@minChannels "-2" is not a non-negative number`},
}

// dropAudioRefs removes what refers to the audio key, so that a case
// breaking that key reports one problem, not its consequences too.
func dropAudioRefs(d *Document) {
	d.DRMSystems, d.UsageRules = d.DRMSystems[:1], d.UsageRules[:1]
}

func TestValidate(t *testing.T) {
	for _, tc := range validateCases {
		t.Run(tc.name, func(t *testing.T) {
			d := responseDoc(t)
			tc.mutate(d)
			err := d.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want a *ValidationError wrapping ErrInvalid", err)
			}
			if len(ve.Problems) != 1 || !strings.Contains(ve.Problems[0], tc.want) {
				t.Fatalf("problems %q, want exactly one containing %q", ve.Problems, tc.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	d := responseDoc(t)
	d.Version = "2.0"
	d.ContentKeys[0].CommonEncryptionScheme = "aes"
	d.UsageRules[1].IntendedTrackType = ""
	err := d.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 3 {
		t.Fatalf("Validate = %v, want 3 problems", err)
	}
	for _, want := range []string{"CPIX@version", "commonEncryptionScheme", "intendedTrackType"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestIsTrackTypeAndScheme(t *testing.T) {
	for _, s := range []string{"ALL", "VIDEO", "AUDIO", "SD", "UHD2", "SD+HD1", "MULTICHANNEL_AUDIO_7"} {
		if !IsTrackType(s) {
			t.Errorf("IsTrackType(%q) = false", s)
		}
	}
	for _, s := range []string{"", "video", "TEXT", "ALL "} {
		if IsTrackType(s) {
			t.Errorf("IsTrackType(%q) = true", s)
		}
	}
	for _, s := range []string{"cenc", "cbcs", "cbc1", "cens"} {
		if !IsScheme(s) {
			t.Errorf("IsScheme(%q) = false", s)
		}
	}
	for _, s := range []string{"", "CENC", "aes-128", "sample-aes"} {
		if IsScheme(s) {
			t.Errorf("IsScheme(%q) = true", s)
		}
	}
}
