package speke

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"onair/internal/cpix"
)

// requestXML returns a SPEKE request for one key and the given DRMSystem
// elements (XML), with contentId "news" and scheme.
func requestXML(scheme, drmSystems string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<cpix:CPIX contentId="news" version="2.3" xmlns:cpix="urn:dashif:org:cpix" xmlns:pskc="urn:ietf:params:xml:ns:keyprov:pskc">
  <cpix:ContentKeyList><cpix:ContentKey kid="873f3740-2508-4a2d-94bc-9b0f86649251" commonEncryptionScheme="` + scheme + `"/></cpix:ContentKeyList>
  <cpix:DRMSystemList>` + drmSystems + `</cpix:DRMSystemList>
  <cpix:ContentKeyUsageRuleList><cpix:ContentKeyUsageRule kid="873f3740-2508-4a2d-94bc-9b0f86649251" intendedTrackType="ALL"/></cpix:ContentKeyUsageRuleList>
</cpix:CPIX>`
}

// drm returns a DRMSystem element for the test key.
func drm(systemID, children string) string {
	return `<cpix:DRMSystem kid="873f3740-2508-4a2d-94bc-9b0f86649251" systemId="` + systemID + `">` + children + `</cpix:DRMSystem>`
}

const hlsBoth = `<cpix:HLSSignalingData playlist="media"/><cpix:HLSSignalingData playlist="master"/>`

var goodRequest = requestXML("cbcs", drm(cpix.ClearKeySystemID, `<cpix:PSSH/><cpix:ContentProtectionData/>`+hlsBoth))

// providerCases are requests the Provider must refuse.
var providerCases = []struct {
	name    string
	cfg     ProviderConfig
	keys    *memKeys
	method  string
	header  map[string]string // replaces the default headers; "" deletes
	body    string
	status  int
	result  string
	message string
	noKeys  bool // the key source must not have been asked
}{
	{name: "GET", method: http.MethodGet, status: 405, result: resultMethod, message: "method GET not allowed", noKeys: true},
	{name: "no auth", header: map[string]string{"Authorization": ""}, status: 401, result: resultUnauthorized, message: "unauthorized", noKeys: true},
	{name: "wrong token", header: map[string]string{"Authorization": "Bearer nope"}, status: 401, result: resultUnauthorized, message: "unauthorized", noKeys: true},
	{name: "no version header", header: map[string]string{HeaderVersion: ""}, status: 400, result: resultVersion, message: "Unsupported SPEKE version: no X-Speke-Version header", noKeys: true},
	{name: "SPEKE 1.0", header: map[string]string{HeaderVersion: "1.0"}, status: 400, result: resultVersion, message: `Unsupported SPEKE version: X-Speke-Version "1.0"`, noKeys: true},
	{name: "SPEKE 2.1", header: map[string]string{HeaderVersion: "2.1"}, status: 400, result: resultVersion, message: `Unsupported SPEKE version: X-Speke-Version "2.1"`, noKeys: true},
	{name: "CPIX 2.4", body: strings.Replace(goodRequest, `version="2.3"`, `version="2.4"`, 1), status: 400, result: resultVersion, message: `Unsupported CPIX version "2.4"`, noKeys: true},
	{name: "text/plain", header: map[string]string{"Content-Type": "text/plain"}, status: 415, result: resultMediaType, message: `Content-Type "text/plain": want application/xml`, noKeys: true},
	{name: "latin1 charset", header: map[string]string{"Content-Type": "application/xml; charset=iso-8859-1"}, status: 415, result: resultMediaType, message: "want application/xml (UTF-8)", noKeys: true},
	{name: "too large", body: goodRequest + strings.Repeat(" ", 5000), cfg: ProviderConfig{MaxRequestBytes: 4096}, status: 413, result: resultTooLarge, message: "exceeds the limit of 4096", noKeys: true},
	{name: "not xml", body: "kids please", status: 400, result: resultMalformed, message: "cpix: malformed: line 1: text outside the root element", noKeys: true},
	{name: "doctype", body: `<!DOCTYPE x [<!ENTITY a "b">]>` + goodRequest[38:], status: 400, result: resultMalformed, message: "DOCTYPE", noKeys: true},
	{name: "invalid kid", body: strings.Replace(goodRequest, `kid="873f3740-2508-4a2d-94bc-9b0f86649251" commonEncryptionScheme`, `kid="873f3740" commonEncryptionScheme`, 1),
		status: 400, result: resultInvalid, message: "ContentKey[0]@kid: uuid", noKeys: true},
	{name: "Widevine", body: requestXML("cbcs", drm(cpix.WidevineSystemID, `<cpix:PSSH/>`)), status: 400, result: resultUnsupported,
		message: "DRMSystem[0] systemId edef8ba9-79d6-4ace-a3c8-27dcd51d21ed (Widevine) is not supported: this key provider serves W3C Clear Key", noKeys: true},
	{name: "FairPlay", body: requestXML("cbcs", drm(cpix.FairPlaySystemID, hlsBoth)), status: 400, result: resultUnsupported,
		message: "(FairPlay) is not supported", noKeys: true},
	{name: "unknown system", body: requestXML("cbcs", drm("11111111-2222-3333-4444-555555555555", `<cpix:PSSH/>`)), status: 400, result: resultUnsupported,
		message: "systemId 11111111-2222-3333-4444-555555555555 (unknown) is not supported", noKeys: true},
	{name: "smooth streaming header", body: requestXML("cenc", drm(cpix.ClearKeySystemID, `<cpix:SmoothStreamingProtectionHeaderData/>`)), status: 400, result: resultUnsupported,
		message: "SmoothStreamingProtectionHeaderData is PlayReady-only", noKeys: true},
	{name: "URIExtXKey", body: requestXML("cbcs", drm(cpix.ClearKeySystemID, `<cpix:URIExtXKey/>`)), status: 400, result: resultUnsupported,
		message: "URIExtXKey is SPEKE v1 signaling", noKeys: true},
	{name: "HLS for cens", body: requestXML("cens", drm(cpix.ClearKeySystemID, hlsBoth)), status: 400, result: resultUnsupported,
		message: `HLS has no key method for scheme "cens"`, noKeys: true},
	{name: "HLS for common pssh", body: requestXML("cbcs", drm(cpix.CommonSystemID, hlsBoth)), status: 400, result: resultUnsupported,
		message: "HLSSignalingData does not exist for the W3C Common PSSH system", noKeys: true},
	{name: "AES-128 without key URL", body: requestXML("cbcs", drm(cpix.ClearKeyAES128SystemID, hlsBoth)), status: 400, result: resultUnsupported,
		message: "needs a key URL, and none is configured", noKeys: true},
	{name: "AES-128 PSSH", cfg: ProviderConfig{KeyURL: testKeyURL}, body: requestXML("cbcs", drm(cpix.HLSAES128SystemID, `<cpix:PSSH/>`+hlsBoth)), status: 400, result: resultUnsupported,
		message: "PSSH/ContentProtectionData does not exist for HLS AES-128", noKeys: true},
	{name: "encrypted delivery", body: strings.Replace(goodRequest, "<cpix:ContentKeyList>", "<cpix:DeliveryDataList><cpix:DeliveryData/></cpix:DeliveryDataList><cpix:ContentKeyList>", 1),
		status: 400, result: resultUnsupported, message: "encrypted content key delivery (DeliveryDataList) is not supported", noKeys: true},
	{name: "key already given", body: strings.Replace(goodRequest, `commonEncryptionScheme="cbcs"/>`,
		`commonEncryptionScheme="cbcs"><cpix:Data><pskc:Secret><pskc:PlainValue>AAECAwQFBgcICQoLDA0ODw==</pskc:PlainValue></pskc:Secret></cpix:Data></cpix:ContentKey>`, 1),
		status: 400, result: resultUnsupported, message: "already carries a key value", noKeys: true},
	{name: "key refused", keys: &memKeys{err: fmt.Errorf("channel news: %w", ErrKeyRefused)}, status: 403, result: resultRefused,
		message: `key refused for content "news", kid 873f3740-2508-4a2d-94bc-9b0f86649251`},
	{name: "key source down", keys: &memKeys{err: errors.New("kms: connection refused")}, status: 503, result: resultUnavailable,
		message: "key source unavailable, try again"},
	{name: "key source bad key", keys: &memKeys{keyLen: 32}, status: 500, result: resultInternal, message: "internal error"},
}

func TestProviderRefusals(t *testing.T) {
	for _, tc := range providerCases {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestProvider(t, tc.cfg, tc.keys)
			body := tc.body
			if body == "" {
				body = goodRequest
			}
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			r := httptest.NewRequest(method, "/speke/v2", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/xml")
			r.Header.Set(HeaderVersion, Version)
			r.Header.Set("Authorization", "Bearer "+testToken)
			for k, v := range tc.header {
				if v == "" {
					r.Header.Del(k)
				} else {
					r.Header.Set(k, v)
				}
			}
			w := httptest.NewRecorder()
			p.ServeHTTP(w, r)
			got, _ := io.ReadAll(w.Body)
			if w.Code != tc.status || !strings.Contains(string(got), tc.message) {
				t.Fatalf("answer %d %q, want %d containing %q", w.Code, got, tc.status, tc.message)
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
				t.Errorf("error Content-Type %q", ct)
			}
			if w.Header().Get(HeaderVersion) != Version || w.Header().Get(HeaderUserAgent) != "onair" || w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("headers %v", w.Header())
			}
			if strings.Contains(string(got), "kms:") || strings.Contains(string(got), "32-byte") {
				t.Errorf("internal detail leaked to the client: %q", got)
			}
			if c := p.count(tc.result); c != 1 {
				t.Errorf("result %q counted %v times", tc.result, c)
			}
			if p.count(resultOK) != 0 {
				t.Error("counted as ok")
			}
			if tc.noKeys && p.keys.callCount() != 0 {
				t.Errorf("the key source was asked %d times for a refused request", p.keys.callCount())
			}
		})
	}
}

func TestProviderServesGoodRequest(t *testing.T) {
	p := newTestProvider(t, ProviderConfig{UserAgent: "onair/1.2"}, nil)
	r := httptest.NewRequest(http.MethodPost, "/speke/v2", strings.NewReader(goodRequest))
	r.Header.Set("Content-Type", "application/xml; charset=UTF-8")
	r.Header.Set(HeaderVersion, Version)
	r.Header.Set("Authorization", "Bearer "+testToken)
	w := httptest.NewRecorder()
	p.ServeHTTP(w, r)
	if w.Code != 200 || w.Header().Get("Content-Type") != ContentType || w.Header().Get(HeaderVersion) != "2.0" ||
		w.Header().Get(HeaderUserAgent) != "onair/1.2" || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("answer %d %v\n%s", w.Code, w.Header(), w.Body)
	}
	d := mustParse(t, w.Body.String())
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	key, _ := testKey("news", kidVideo)
	if v, err := d.ContentKeys[0].Value(); err != nil || string(v) != string(key) {
		t.Errorf("key %x, %v", v, err)
	}
	if d.UsageRules[0].IntendedTrackType != "ALL" {
		t.Error("the usage rule was not kept")
	}
}

func TestNewProviderConfigErrors(t *testing.T) {
	keys := &memKeys{}
	auth := BearerAuth("t")
	for _, tc := range []struct {
		name string
		cfg  ProviderConfig
		deps ProviderDeps
		want string
	}{
		{"no license URL", ProviderConfig{Auth: auth}, ProviderDeps{Keys: keys}, "LicenseURL is required"},
		{"relative license URL", ProviderConfig{LicenseURL: "/license/{content_id}", Auth: auth}, ProviderDeps{Keys: keys}, `scheme "", want http or https`},
		{"skd license URL", ProviderConfig{LicenseURL: "skd://{kid_hex}", Auth: auth}, ProviderDeps{Keys: keys}, "skd:// is the FairPlay key URI scheme"},
		{"unknown placeholder", ProviderConfig{LicenseURL: "https://x/{channel}", Auth: auth}, ProviderDeps{Keys: keys}, "unknown placeholder"},
		{"quote in URL", ProviderConfig{LicenseURL: `https://x/"a"`, Auth: auth}, ProviderDeps{Keys: keys}, "quote or control character"},
		{"bad key URL", ProviderConfig{LicenseURL: testLicenseURL, KeyURL: "ftp://x/{kid}", Auth: auth}, ProviderDeps{Keys: keys}, `key URL: URL template "ftp://x/{kid}": scheme "ftp"`},
		{"no auth", ProviderConfig{LicenseURL: testLicenseURL}, ProviderDeps{Keys: keys}, "Auth is required"},
		{"no keys", ProviderConfig{LicenseURL: testLicenseURL, Auth: auth}, ProviderDeps{}, "a KeySource is required"},
		{"limit too big", ProviderConfig{LicenseURL: testLicenseURL, Auth: auth, MaxRequestBytes: 2 << 20}, ProviderDeps{Keys: keys}, "MaxRequestBytes 2097152"},
		{"bad user agent", ProviderConfig{LicenseURL: testLicenseURL, Auth: auth, UserAgent: "a\nb"}, ProviderDeps{Keys: keys}, "UserAgent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewProvider(tc.cfg, tc.deps)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewProvider: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestBearerAuth(t *testing.T) {
	for _, tc := range []struct {
		token, header string
		ok            bool
	}{
		{"abc", "Bearer abc", true},
		{"abc", "Bearer abcd", false},
		{"abc", "bearer abc", false},
		{"abc", "", false},
		{"", "Bearer ", false},
	} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		if err := BearerAuth(tc.token)(r); (err == nil) != tc.ok {
			t.Errorf("token %q header %q: %v", tc.token, tc.header, err)
		}
	}
}

// FuzzProvider sends arbitrary bodies to the Provider: it must never
// panic or fail with 5xx, and whatever it answers 200 must be a valid
// CPIX document holding a key for every ContentKey.
func FuzzProvider(f *testing.F) {
	f.Add(goodRequest)
	f.Add(requestXML("cenc", drm(cpix.ClearKeyAES128SystemID, hlsBoth)))
	for _, tc := range providerCases {
		if tc.body != "" && len(tc.body) < 4096 {
			f.Add(tc.body)
		}
	}
	p := newTestProvider(f, ProviderConfig{KeyURL: testKeyURL}, nil)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/xml")
		r.Header.Set(HeaderVersion, Version)
		r.Header.Set("Authorization", "Bearer "+testToken)
		w := httptest.NewRecorder()
		p.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("answer %d %q to %q", w.Code, w.Body, body)
		}
		if w.Code != 200 {
			return
		}
		d, err := cpix.Parse(w.Body.Bytes())
		if err != nil {
			t.Fatalf("200 with an unparsable body: %v", err)
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("200 with an invalid document: %v", err)
		}
		for i := range d.ContentKeys {
			if _, err := d.ContentKeys[i].Value(); err != nil {
				t.Fatalf("200 without a key: %v", err)
			}
		}
	})
}
