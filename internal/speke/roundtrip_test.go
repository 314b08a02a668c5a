package speke

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Eyevinn/mp4ff/mp4"

	"onair/internal/cpix"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestRoundTrip runs our Client against our Provider over HTTP on
// 127.0.0.1 and checks what the packager would put in inits and
// playlists.
func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name, scheme, method string
		withIV               bool
	}{
		{"cbcs", cpix.SchemeCBCS, "SAMPLE-AES", false},
		{"cenc with IVs", cpix.SchemeCENC, "SAMPLE-AES-CTR", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestProvider(t, ProviderConfig{KeyURL: testKeyURL}, &memKeys{withIV: tc.withIV})
			rec := &recorder{next: p}
			srv := serve(t, rec)
			resp, err := testClient(srv.URL).Fetch(context.Background(), Request{
				ContentID:  "news",
				KIDs:       [][16]byte{kidVideo, kidAudio},
				Scheme:     tc.scheme,
				DRMSystems: []string{cpix.ClearKeySystemID, cpix.CommonSystemID, strings.ToUpper(cpix.ClearKeyAES128SystemID)},
				TrackTypes: []string{"VIDEO", "AUDIO"},
				Periods:    []uint64{7, 7},
			})
			if err != nil {
				t.Fatal(err)
			}
			if resp.UserAgent != "onair" {
				t.Errorf("UserAgent %q", resp.UserAgent)
			}
			// Both documents on the wire are valid CPIX 2.3.
			for _, body := range append(rec.requests, rec.responses...) {
				if err := mustParse(t, body).Validate(); err != nil {
					t.Errorf("%v\n%s", err, body)
				}
			}
			if len(resp.Keys) != 2 {
				t.Fatalf("%d keys", len(resp.Keys))
			}
			for i, kid := range [][16]byte{kidVideo, kidAudio} {
				k := resp.Keys[i]
				key, iv := testKey("news", kid)
				if !tc.withIV {
					iv = nil
				}
				if k.KID != kid || !bytes.Equal(k.Value, key) || !bytes.Equal(k.IV, iv) {
					t.Errorf("key %d = %x %x %x, want %x %x %x", i, k.KID, k.Value, k.IV, kid, key, iv)
				}
			}
			if len(resp.DRM) != 6 {
				t.Fatalf("%d DRM entries, want 3 systems x 2 keys", len(resp.DRM))
			}
			for _, d := range resp.DRM {
				kid := cpix.UUID(d.KID)
				switch d.SystemID {
				case cpix.ClearKeySystemID, cpix.CommonSystemID:
					checkClearKeyPSSH(t, d.PSSH, kid)
					if !strings.HasPrefix(d.ContentProtectionData, `<cenc:pssh xmlns:cenc="urn:mpeg:cenc:2013">`) {
						t.Errorf("%s ContentProtectionData %q", d.SystemID, d.ContentProtectionData)
					}
					hasLaurl := strings.Contains(d.ContentProtectionData,
						`<dashif:Laurl xmlns:dashif="https://dashif.org/CPS" licenseType="EME-1.0">https://onair.example/license/news/clearkey</dashif:Laurl>`)
					if hasLaurl != (d.SystemID == cpix.ClearKeySystemID) {
						t.Errorf("%s ContentProtectionData %q: Laurl %v", d.SystemID, d.ContentProtectionData, hasLaurl)
					}
				}
				switch d.SystemID {
				case cpix.ClearKeySystemID:
					attrs := `METHOD=` + tc.method + `,URI="https://onair.example/license/news/clearkey",KEYID=0x` + kid.Hex() +
						`,KEYFORMAT="org.w3.clearkey",KEYFORMATVERSIONS="1"`
					if d.HLSSignalingMedia != "#EXT-X-KEY:"+attrs || d.HLSSignalingMaster != "#EXT-X-SESSION-KEY:"+attrs {
						t.Errorf("Clear Key HLS\n%s\n%s\nwant attributes %s", d.HLSSignalingMedia, d.HLSSignalingMaster, attrs)
					}
				case cpix.CommonSystemID:
					if d.HLSSignalingMedia != "" || d.HLSSignalingMaster != "" {
						t.Errorf("Common PSSH got HLS signaling %q", d.HLSSignalingMedia)
					}
				case cpix.ClearKeyAES128SystemID:
					attrs := `METHOD=AES-128,URI="https://onair.example/license/news/aes128/` + kid.Hex() + `"`
					if tc.withIV {
						_, iv := testKey("news", d.KID)
						attrs += ",IV=0x" + cpix.UUID(iv).Hex()
					}
					attrs += `,KEYFORMAT="identity",KEYFORMATVERSIONS="1"`
					if d.HLSSignalingMedia != "#EXT-X-KEY:"+attrs || d.HLSSignalingMaster != "#EXT-X-SESSION-KEY:"+attrs {
						t.Errorf("AES-128 HLS\n%s\nwant %s", d.HLSSignalingMedia, attrs)
					}
					if d.PSSH != nil || d.ContentProtectionData != "" {
						t.Error("AES-128 got DASH signaling")
					}
				default:
					t.Errorf("unexpected system %s", d.SystemID)
				}
			}
			if got := p.count(resultOK); got != 1 {
				t.Errorf("ok requests counted %v", got)
			}
			if got := testutilKeys(p); got != 2 {
				t.Errorf("keys counted %v", got)
			}
		})
	}
}

// checkClearKeyPSSH checks, with mp4ff, that b is the W3C Common pssh
// box of Clear Key listing kid.
func checkClearKeyPSSH(t *testing.T, b []byte, kid cpix.UUID) {
	t.Helper()
	boxes, err := mp4.PsshBoxesFromBytes(b)
	if err != nil || len(boxes) != 1 {
		t.Fatalf("pssh %x: %v", b, err)
	}
	p := boxes[0]
	if p.Version != 1 || p.SystemID.String() != cpix.CommonSystemID || len(p.KIDs) != 1 || p.KIDs[0].String() != kid.String() {
		t.Errorf("pssh version %d system %s kids %v, want the common box for %s", p.Version, p.SystemID, p.KIDs, kid)
	}
}

func TestRoundTripSameKeysTwice(t *testing.T) {
	p := newTestProvider(t, ProviderConfig{}, nil)
	c := testClient(serve(t, p).URL)
	req := Request{ContentID: "news", KIDs: [][16]byte{kidVideo}, Scheme: cpix.SchemeCBCS, DRMSystems: []string{cpix.ClearKeySystemID}}
	a, err := c.Fetch(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Fetch(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Keys[0].Value, b.Keys[0].Value) || a.DRM[0].HLSSignalingMedia != b.DRM[0].HLSSignalingMedia {
		t.Error("the same request gave different answers")
	}
}

// TestGoldenExchange pins the request Fetch sends and the answer the
// Provider gives for it: docs/SPEKE.md shows these two documents.
func TestGoldenExchange(t *testing.T) {
	p := newTestProvider(t, ProviderConfig{KeyURL: testKeyURL}, nil)
	rec := &recorder{next: p}
	_, err := testClient(serve(t, rec).URL).Fetch(context.Background(), Request{
		ContentID:  "news",
		KIDs:       [][16]byte{kidVideo, kidAudio},
		Scheme:     cpix.SchemeCBCS,
		DRMSystems: []string{cpix.ClearKeySystemID},
		TrackTypes: []string{"VIDEO", "AUDIO"},
		Periods:    []uint64{0, 0},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"request.golden.xml", "response.golden.xml"} {
		got := [][]string{rec.requests, rec.responses}[i][0]
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("%s differs (run with -update after checking):\n%s", path, got)
		}
	}
}
