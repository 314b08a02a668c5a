package speke

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"onair/internal/cpix"
)

// clientRequest is what the bad-response cases ask for.
func clientRequest() Request {
	return Request{
		ContentID:  "news",
		KIDs:       [][16]byte{kidVideo, kidAudio},
		Scheme:     cpix.SchemeCBCS,
		DRMSystems: []string{cpix.ClearKeySystemID},
	}
}

// tamper serves the Provider's real answer after changing it.
type tamper struct {
	p      http.Handler
	doc    func(d *cpix.Document)      // edits the document, if set
	body   func(b []byte) []byte       // replaces the body, if set
	header func(h http.Header)         // edits the headers, if set
	status int                         // replaces a 200, if set
	write  func(w http.ResponseWriter) // answers alone, if set
}

func (tp tamper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if tp.write != nil {
		tp.write(w)
		return
	}
	rw := httptest.NewRecorder()
	tp.p.ServeHTTP(rw, r)
	body := rw.Body.Bytes()
	if tp.doc != nil {
		d, err := cpix.Parse(body)
		if err != nil {
			panic(err)
		}
		tp.doc(d)
		if body, err = cpix.Marshal(d); err != nil {
			panic(err)
		}
	}
	if tp.body != nil {
		body = tp.body(body)
	}
	for k, v := range rw.Header() {
		w.Header()[k] = v
	}
	if tp.header != nil {
		tp.header(w.Header())
	}
	status := rw.Code
	if tp.status != 0 {
		status = tp.status
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func str(s string) *string { return &s }

var badResponseCases = []struct {
	name     string
	tp       tamper
	sentinel error
	want     string
}{
	{"missing key", tamper{doc: func(d *cpix.Document) {
		d.ContentKeys = d.ContentKeys[:1]
		d.DRMSystems, d.UsageRules = d.DRMSystems[:1], nil
	}}, ErrInvalidResponse, "no ContentKey for requested kid 0c54f2b0-b433-45a4-ae73-664438bb0b4e"},
	{"short key", tamper{doc: func(d *cpix.Document) { d.ContentKeys[1].Data.Secret.PlainValue = str("AAECAwQFBgc=") }},
		ErrInvalidResponse, "ContentKey[1]: PlainValue: want 16 bytes, base64 holds 8"},
	{"long key", tamper{doc: func(d *cpix.Document) {
		d.ContentKeys[0].Data.Secret.PlainValue = str(cpix.EncodeBase64(make([]byte, 32)))
	}}, ErrInvalidResponse, "ContentKey[0]: PlainValue: want 16 bytes, base64 holds 32"},
	{"key without value", tamper{doc: func(d *cpix.Document) { d.ContentKeys[0].Data = nil }},
		ErrInvalidResponse, "content key 873f3740-2508-4a2d-94bc-9b0f86649251: no key value"},
	{"wrong scheme", tamper{doc: func(d *cpix.Document) { d.ContentKeys[1].CommonEncryptionScheme = cpix.SchemeCENC }},
		ErrInvalidResponse, `ContentKey 0c54f2b0-b433-45a4-ae73-664438bb0b4e has commonEncryptionScheme "cenc", requested "cbcs"`},
	{"wrong content id", tamper{doc: func(d *cpix.Document) { d.ContentID = "sports" }}, ErrInvalidResponse, `contentId "sports", requested "news"`},
	{"extra key", tamper{doc: func(d *cpix.Document) {
		d.ContentKeys = append(d.ContentKeys, cpix.ContentKey{KID: "11111111-2222-3333-4444-555555555555", CommonEncryptionScheme: "cbcs"})
	}}, ErrInvalidResponse, "ContentKey 11111111-2222-3333-4444-555555555555 was not requested"},
	{"missing DRMSystem", tamper{doc: func(d *cpix.Document) { d.DRMSystems = d.DRMSystems[1:] }},
		ErrInvalidResponse, "no DRMSystem e2719d58-a985-b3c9-781a-b030af78d30e (W3C Clear Key) for kid 873f3740-2508-4a2d-94bc-9b0f86649251"},
	{"missing PSSH", tamper{doc: func(d *cpix.Document) { d.DRMSystems[0].PSSH = nil }}, ErrInvalidResponse, "PSSH is missing or empty"},
	{"PSSH not a box", tamper{doc: func(d *cpix.Document) { d.DRMSystems[0].PSSH = str("AAECAwQFBgcICQoLDA0ODw==") }},
		ErrInvalidResponse, "PSSH: cpix: malformed: pssh: 16 bytes"},
	{"empty content protection", tamper{doc: func(d *cpix.Document) { d.DRMSystems[1].ContentProtectionData = str("") }},
		ErrInvalidResponse, "for kid 0c54f2b0-b433-45a4-ae73-664438bb0b4e: ContentProtectionData is missing or empty"},
	{"empty HLS master", tamper{doc: func(d *cpix.Document) { d.DRMSystems[0].HLSSignalingData[1].Value = "" }},
		ErrInvalidResponse, `HLSSignalingData[@playlist="master"] is missing or empty`},
	{"HLS media not a key tag", tamper{doc: func(d *cpix.Document) {
		d.DRMSystems[0].HLSSignalingData[0].Value = cpix.EncodeBase64([]byte("#EXT-X-SESSION-KEY:METHOD=AES-128"))
	}}, ErrInvalidResponse, `HLSSignalingData[@playlist="media"] holds no #EXT-X-KEY tag`},
	{"encrypted key", tamper{body: func(b []byte) []byte {
		return regexp.MustCompile(`<pskc:PlainValue>[^<]*</pskc:PlainValue>`).ReplaceAll(b,
			[]byte(`<pskc:EncryptedValue><enc:CipherData xmlns:enc="http://www.w3.org/2001/04/xmlenc#"/></pskc:EncryptedValue>`))
	}}, ErrInvalidResponse, "content key 873f3740-2508-4a2d-94bc-9b0f86649251: encrypted key values are not supported"},
	{"dangling usage rule", tamper{doc: func(d *cpix.Document) { d.UsageRules[0].KID = "11111111-2222-3333-4444-555555555555" }},
		cpix.ErrInvalid, "ContentKeyUsageRule[0]@kid 11111111-2222-3333-4444-555555555555 names no ContentKey"},
	{"CPIX 2.2", tamper{doc: func(d *cpix.Document) { d.Version = "2.2" }}, ErrVersion, `CPIX@version "2.2", want "2.3"`},
	{"no version header", tamper{header: func(h http.Header) { h.Del(HeaderVersion) }}, ErrVersion, `response X-Speke-Version is "", want "2.0"`},
	{"version header 1.0", tamper{header: func(h http.Header) { h.Set(HeaderVersion, "1.0") }}, ErrVersion, `response X-Speke-Version is "1.0"`},
	{"500", tamper{write: func(w http.ResponseWriter) {
		http.Error(w, "database unavailable\nretry later", http.StatusInternalServerError)
	}}, nil, "key provider answered 500 Internal Server Error: database unavailable retry later"},
	{"403 vendor", tamper{write: func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":"Unsupported DRM system ID","requestId":"` + strings.Repeat("x", 1000) + `"}`))
	}}, nil, `key provider answered 403 Forbidden: {"error":"Unsupported DRM system ID","requestId":"xxx`},
	{"huge body", tamper{body: func(b []byte) []byte { return append(b, bytes.Repeat([]byte(" "), cpix.MaxDocumentSize)...) }},
		ErrTooLarge, "response over the limit of 1048576 bytes"},
	{"huge Content-Length", tamper{write: func(w http.ResponseWriter) {
		w.Header().Set(HeaderVersion, Version)
		w.Header().Set("Content-Length", "2000000")
		w.WriteHeader(200)
		_, _ = w.Write([]byte("<cpix:CPIX"))
	}}, ErrTooLarge, "response of 2000000 bytes, limit 1048576"},
	{"huge chunked body", tamper{write: func(w http.ResponseWriter) {
		w.Header().Set(HeaderVersion, Version)
		w.WriteHeader(200)
		for range 20 {
			_, _ = w.Write(bytes.Repeat([]byte("<a>"), 20000))
			w.(http.Flusher).Flush()
		}
	}}, ErrTooLarge, "response over the limit of 1048576 bytes"},
	{"not xml", tamper{body: func([]byte) []byte { return []byte("OK") }}, ErrInvalidResponse, "cpix: malformed"},
}

func TestClientBadResponses(t *testing.T) {
	for _, tc := range badResponseCases {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestProvider(t, ProviderConfig{}, nil)
			tc.tp.p = p
			srv := serve(t, tc.tp)
			_, err := testClient(srv.URL).Fetch(context.Background(), clientRequest())
			wantErr(t, err, tc.sentinel, tc.want)
			if !strings.Contains(err.Error(), `fetch keys for "news" from http://127.0.0.1:`) {
				t.Errorf("error %q does not say what failed where", err)
			}
			var he *HTTPError
			if isHTTP := errors.As(err, &he); isHTTP != (tc.sentinel == nil) {
				t.Errorf("HTTPError %v for %v", isHTTP, err)
			} else if isHTTP && len(he.Body) > 512 {
				t.Errorf("HTTPError body of %d bytes", len(he.Body))
			}
		})
	}
}

func TestClientTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := testClient(srv.URL).Fetch(ctx, clientRequest())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Fetch: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Fetch returned after %v", d)
	}
	c := testClient(srv.URL)
	c.Timeout = 50 * time.Millisecond
	if _, err := c.Fetch(context.Background(), clientRequest()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Fetch with Client.Timeout: %v", err)
	}
}

func TestClientSendsHeadersAndRedactsURL(t *testing.T) {
	var got http.Header
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		http.Error(w, "no", http.StatusTeapot)
	}))
	c := &Client{URL: srv.URL + "/speke?api_key=SECRET", Header: http.Header{"X-Api-Key": {"k1"}}}
	_, err := c.Fetch(context.Background(), clientRequest())
	wantErr(t, err, nil, "key provider answered 418")
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error shows the query: %v", err)
	}
	for k, want := range map[string]string{"Content-Type": "application/xml", HeaderVersion: "2.0", "X-Api-Key": "k1", "User-Agent": "onair-speke"} {
		if got.Get(k) != want {
			t.Errorf("request header %s = %q, want %q", k, got.Get(k), want)
		}
	}
}

func TestClientInvalidRequests(t *testing.T) {
	ok := clientRequest()
	for _, tc := range []struct {
		name   string
		mutate func(r *Request)
		want   string
	}{
		{"no content id", func(r *Request) { r.ContentID = "" }, "no ContentID"},
		{"no kids", func(r *Request) { r.KIDs = nil }, "no KIDs"},
		{"duplicate kid", func(r *Request) { r.KIDs = [][16]byte{kidVideo, kidVideo} }, "KID 873f3740-2508-4a2d-94bc-9b0f86649251 listed twice"},
		{"bad scheme", func(r *Request) { r.Scheme = "aes-128" }, `scheme "aes-128": want cbcs, cenc, cbc1 or cens`},
		{"bad system", func(r *Request) { r.DRMSystems = []string{"widevine"} }, "DRM system: uuid"},
		{"duplicate system", func(r *Request) {
			r.DRMSystems = []string{cpix.ClearKeySystemID, strings.ToUpper(cpix.ClearKeySystemID)}
		}, "listed twice"},
		{"track types length", func(r *Request) { r.TrackTypes = []string{"VIDEO"} }, "1 TrackTypes for 2 KIDs"},
		{"bad track type", func(r *Request) { r.TrackTypes = []string{"VIDEO", "SUBTITLES"} }, `track type "SUBTITLES"`},
		{"periods length", func(r *Request) { r.Periods = []uint64{1, 2, 3} }, "3 Periods for 2 KIDs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			called := false
			srv := serve(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
			r := ok
			tc.mutate(&r)
			_, err := testClient(srv.URL).Fetch(context.Background(), r)
			wantErr(t, err, ErrInvalidRequest, tc.want)
			if called {
				t.Error("an invalid request was sent")
			}
		})
	}
}

// TestClientVendorResponse reads a response in the shape a DRM vendor
// returns to AWS MediaPackage (Widevine, PlayReady and FairPlay for a
// video and an audio key).
func TestClientVendorResponse(t *testing.T) {
	fixture, err := os.ReadFile("testdata/vendor_response.xml")
	if err != nil {
		t.Fatal(err)
	}
	d := mustParse(t, string(fixture))
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml;charset=UTF-8")
		w.Header().Set(HeaderVersion, "2.0")
		w.Header().Set(HeaderUserAgent, "ExampleDRM KeyServer/4.2")
		_, _ = w.Write(fixture)
	}))
	video, _ := cpix.ParseUUID("9eb4050d-e44b-4802-932e-27d75083e266")
	audio, _ := cpix.ParseUUID("6d2b6d4c-a2d6-4f6f-9b1c-3c4e0d2a8f11")
	resp, err := testClient(srv.URL).Fetch(context.Background(), Request{
		ContentID:  "news-hd",
		KIDs:       [][16]byte{video, audio},
		Scheme:     cpix.SchemeCBCS,
		DRMSystems: []string{cpix.WidevineSystemID, cpix.PlayReadySystemID, cpix.FairPlaySystemID},
		TrackTypes: []string{"VIDEO", "AUDIO"},
		Periods:    []uint64{0, 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.UserAgent != "ExampleDRM KeyServer/4.2" || len(resp.Keys) != 2 || len(resp.DRM) != 6 {
		t.Fatalf("response %+v", resp)
	}
	if cpix.EncodeBase64(resp.Keys[0].Value) != "OpFcB+JNGLZwL8mFEd5Dmg==" || cpix.EncodeBase64(resp.Keys[0].IV) != "XyGoDJNH5h2yeA7FOYRq8Q==" || resp.Keys[1].IV != nil {
		t.Errorf("keys %+v", resp.Keys)
	}
	for _, dd := range resp.DRM {
		switch dd.SystemID {
		case cpix.WidevineSystemID, cpix.PlayReadySystemID:
			boxes, err := mp4.PsshBoxesFromBytes(dd.PSSH)
			if err != nil || boxes[0].SystemID.String() != dd.SystemID {
				t.Errorf("%s pssh: %v", dd.SystemID, err)
			}
			if !strings.Contains(dd.ContentProtectionData, "<cenc:pssh") {
				t.Errorf("%s ContentProtectionData %q", dd.SystemID, dd.ContentProtectionData)
			}
		case cpix.FairPlaySystemID:
			if dd.PSSH != nil || !strings.Contains(dd.HLSSignalingMedia, `URI="skd://`+cpix.UUID(dd.KID).Hex()+`"`) ||
				!strings.HasPrefix(dd.HLSSignalingMaster, "#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,") {
				t.Errorf("FairPlay %+v", dd)
			}
		}
	}
	if !strings.Contains(resp.DRM[2].ContentProtectionData, `<mspr:pro xmlns:mspr="urn:microsoft:playready">`) {
		t.Errorf("PlayReady ContentProtectionData %q", resp.DRM[2].ContentProtectionData)
	}
}
