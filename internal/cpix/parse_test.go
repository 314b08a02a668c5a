package cpix

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// awsStyleRequest is a request in the layout SPEKE v2 encryptors send:
// prefixed elements, empty elements spread over lines to be filled.
const awsStyleRequest = `<?xml version="1.0" encoding="UTF-8"?>
<cpix:CPIX contentId="news" version="2.3" xmlns:cpix="urn:dashif:org:cpix" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc">
    <cpix:ContentKeyList>
        <cpix:ContentKey kid="873f3740-2508-4a2d-94bc-9b0f86649251" commonEncryptionScheme="cbcs">
        </cpix:ContentKey>
    </cpix:ContentKeyList>
    <cpix:DRMSystemList>
        <cpix:DRMSystem kid="873f3740-2508-4a2d-94bc-9b0f86649251" systemId="e2719d58-a985-b3c9-781a-b030af78d30e">
            <cpix:PSSH />
            <cpix:ContentProtectionData />
            <cpix:HLSSignalingData playlist="media">
            </cpix:HLSSignalingData>
            <cpix:HLSSignalingData playlist="master">
            </cpix:HLSSignalingData>
        </cpix:DRMSystem>
    </cpix:DRMSystemList>
    <cpix:ContentKeyPeriodList>
        <cpix:ContentKeyPeriod id="keyPeriod_1" index="1"/>
    </cpix:ContentKeyPeriodList>
    <cpix:ContentKeyUsageRuleList>
        <cpix:ContentKeyUsageRule kid="873f3740-2508-4a2d-94bc-9b0f86649251" intendedTrackType="VIDEO">
            <cpix:KeyPeriodFilter periodId="keyPeriod_1"/>
            <cpix:VideoFilter />
            <cpix:BitrateFilter minBitrate="1"/>
        </cpix:ContentKeyUsageRule>
    </cpix:ContentKeyUsageRuleList>
    <cpix:UpdateHistoryItemList><cpix:UpdateHistoryItem index="1" source="x" date="2026-01-01T00:00:00Z"/></cpix:UpdateHistoryItemList>
</cpix:CPIX>
`

func TestParseRequest(t *testing.T) {
	d, err := Parse([]byte(awsStyleRequest))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	want := &Document{
		ContentID:   "news",
		Version:     "2.3",
		ContentKeys: []ContentKey{{KID: kidVideo, CommonEncryptionScheme: "cbcs"}},
		DRMSystems: []DRMSystem{{KID: kidVideo, SystemID: ClearKeySystemID, PSSH: ptr(""), ContentProtectionData: ptr(""),
			HLSSignalingData: []HLSSignalingData{{Playlist: "media"}, {Playlist: "master"}}}},
		ContentKeyPeriods: []ContentKeyPeriod{{ID: "keyPeriod_1", Index: "1"}},
		UsageRules: []ContentKeyUsageRule{{KID: kidVideo, IntendedTrackType: "VIDEO",
			KeyPeriodFilters: []KeyPeriodFilter{{PeriodID: "keyPeriod_1"}}, VideoFilters: []VideoFilter{{}}}},
	}
	d.XMLName = want.XMLName
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("parsed\n%+v\nwant\n%+v", d, want)
	}
	if d.DRMSystems[0].SmoothStreamingProtectionHeaderData != nil || d.DRMSystems[0].URIExtXKey != nil {
		t.Error("absent elements parsed as present")
	}
}

func TestParseDefaultNamespace(t *testing.T) {
	// The same document without prefixes is the same document.
	doc := `<CPIX xmlns="urn:dashif:org:cpix" xmlns:p="urn:ietf:params:xml:ns:keyprov:pskc" contentId="c" version="2.3">
<ContentKeyList><ContentKey kid="` + kidVideo + `" commonEncryptionScheme="cenc"><Data><p:Secret><p:PlainValue>
` + keyVideo + `
</p:PlainValue></p:Secret></Data></ContentKey></ContentKeyList></CPIX>`
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	v, err := d.ContentKeys[0].Value()
	if err != nil || v[15] != 15 {
		t.Fatalf("Value = %x, %v", v, err)
	}
}

// parseErrorCases are inputs Parse must refuse; want is in the error.
var parseErrorCases = []struct {
	name, doc, want string
	sentinel        error
}{
	{"empty", "", "no root element", ErrMalformed},
	{"not xml", "hello", "text outside the root element", ErrMalformed},
	{"doctype", `<?xml version="1.0"?><!DOCTYPE CPIX [<!ENTITY x "y">]><cpix:CPIX xmlns:cpix="urn:dashif:org:cpix"/>`, "DOCTYPE", ErrMalformed},
	{"external entity", `<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><CPIX xmlns="urn:dashif:org:cpix">&e;</CPIX>`, "DOCTYPE", ErrMalformed},
	{"undeclared entity", `<CPIX xmlns="urn:dashif:org:cpix" contentId="&e;"/>`, "entity", ErrMalformed},
	{"two roots", `<CPIX xmlns="urn:dashif:org:cpix"/><CPIX xmlns="urn:dashif:org:cpix"/>`, "a second root element", ErrMalformed},
	{"text after root", `<CPIX xmlns="urn:dashif:org:cpix"/>junk`, "text outside the root element", ErrMalformed},
	{"truncated", `<CPIX xmlns="urn:dashif:org:cpix"><ContentKeyList>`, "unexpected end of document", ErrMalformed},
	{"mismatched tags", `<CPIX xmlns="urn:dashif:org:cpix"><a></b></CPIX>`, "element <a> closed by </b>", ErrMalformed},
	{"wrong root", `<cpix:Document xmlns:cpix="urn:dashif:org:cpix"/>`, "expected element type <CPIX>", ErrMalformed},
	{"wrong namespace", `<CPIX xmlns="urn:aws:amazon:com:speke"/>`, "expected element <CPIX> in name space urn:dashif:org:cpix", ErrMalformed},
	{"no namespace", `<CPIX contentId="x"/>`, "expected element <CPIX> in name space", ErrMalformed},
	{"latin1", `<?xml version="1.0" encoding="ISO-8859-1"?><CPIX xmlns="urn:dashif:org:cpix"/>`, "ISO-8859-1", ErrMalformed},
	{"too deep", `<CPIX xmlns="urn:dashif:org:cpix">` + strings.Repeat("<a>", MaxDepth) + strings.Repeat("</a>", MaxDepth) + `</CPIX>`, "nested deeper than 16", ErrTooLarge},
	{"too large", `<CPIX xmlns="urn:dashif:org:cpix">` + strings.Repeat(" ", MaxDocumentSize) + `</CPIX>`, "limit 1048576", ErrTooLarge},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range parseErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(tc.doc))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", d)
			}
			if !errors.Is(err, tc.sentinel) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse: %v; want %v containing %q", err, tc.sentinel, tc.want)
			}
		})
	}
}

func TestParseLineNumbers(t *testing.T) {
	_, err := Parse([]byte("<CPIX xmlns=\"urn:dashif:org:cpix\">\n\n<!DOCTYPE x>\n</CPIX>"))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("Parse: %v, want the line of the DOCTYPE", err)
	}
}
