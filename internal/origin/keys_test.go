package origin

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"onair/internal/live"
)

func kid(b byte) live.KeyID {
	var k live.KeyID
	for i := range k {
		k[i] = b
	}
	return k
}

// TestAES128Playlist: an AES-128 rendition's playlist lists only whole
// segments (no parts, no hint), names each key's URI on the license
// path, states a rotated key once where it changes, and keeps a new init
// clear with METHOD=NONE before its EXT-X-MAP.
func TestAES128Playlist(t *testing.T) {
	f := newFixture(t, Config{})
	info := info360()
	info.Protection = live.Protection{Scheme: live.SchemeAES128}
	r := f.rendition(info)
	for n := int64(0); n < 6; n++ {
		r.SetKey(kid(byte(1 + n/3))) // rotate every 3 segments
		if n == 4 {
			r.SetInit(info, live.InitName(false, 4), []byte("init 2"))
		}
		f.segment(r, n, n == 4)
	}
	r.SetKey(kid(3))
	f.parts(r, 6, false, 0, 2)

	rec := f.get("/live/ch1/360p/index.m3u8")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	b := body(t, rec)
	for _, bad := range []string{"EXT-X-PART", "PRELOAD-HINT", "6.0.m4s"} {
		if strings.Contains(b, bad) {
			t.Errorf("AES-128 playlist has %s:\n%s", bad, b)
		}
	}
	uri1 := `#EXT-X-KEY:METHOD=AES-128,URI="/license/ch1/aes128/` + kid(1).Hex() + `"`
	uri2 := `#EXT-X-KEY:METHOD=AES-128,URI="/license/ch1/aes128/` + kid(2).Hex() + `"`
	want := []string{
		"#EXT-X-MAP:URI=\"init.mp4\"\n" + uri1 + "\n",
		"#EXTINF:2.000,\n2.m4s\n" + uri2 + "\n",
		"#EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=NONE\n#EXT-X-MAP:URI=\"init-4.mp4\"\n" + uri2 + "\n",
	}
	for _, w := range want {
		if !strings.Contains(b, w) {
			t.Errorf("playlist lacks\n%s\ngot:\n%s", w, b)
		}
	}
	if n := strings.Count(b, "METHOD=AES-128"); n != 3 {
		t.Errorf("%d AES-128 key tags, want 3 (first, rotation, after the new init):\n%s", n, b)
	}
	var m playlist.Media
	if err := m.Unmarshal([]byte(b)); err != nil {
		t.Fatalf("gohlslib cannot parse it: %v", err)
	}
	if len(m.Segments) != 6 {
		t.Errorf("%d segments, want 6", len(m.Segments))
	}

	if rec := f.get("/live/ch1/manifest.mpd"); rec.Code != http.StatusNotFound {
		t.Errorf("MPD of an AES-128 channel: status %d, want 404", rec.Code)
	}
}

// TestCENCSignalling: cbcs and cenc renditions carry a Clear Key
// EXT-X-KEY with the KID, and the MPD's AdaptationSets carry the
// mp4protection descriptor (scheme, default_KID) and the Clear Key one
// with an absolute license URL and the pssh.
func TestCENCSignalling(t *testing.T) {
	for _, tc := range []struct {
		scheme live.Scheme
		method string
	}{{live.SchemeCBCS, "SAMPLE-AES"}, {live.SchemeCENC, "SAMPLE-AES-CTR"}} {
		t.Run(string(tc.scheme), func(t *testing.T) {
			f := newFixture(t, Config{})
			p := live.Protection{Scheme: tc.scheme, Key: kid(0xab), PSSH: "AAAANHBzc2gBAAAA4nGdWKmFs8l4GrAwr3jTDgAAAAGrq6urq6urq6urq6urq6urAAAAAA=="}
			v, a := info360(), infoAudio()
			v.Protection, a.Protection = p, p
			for _, r := range []*live.Rendition{f.rendition(v), f.rendition(a)} {
				for n := int64(0); n < 4; n++ {
					f.segment(r, n, false)
				}
			}
			b := body(t, f.get("/live/ch1/360p/index.m3u8"))
			want := `#EXT-X-KEY:METHOD=` + tc.method + `,URI="/license/ch1/clearkey?kid=` + kid(0xab).Hex() + `",KEYID=0x` + kid(0xab).Hex() +
				`,KEYFORMAT="org.w3.clearkey",KEYFORMATVERSIONS="1"`
			if strings.Count(b, want) != 1 || !strings.Contains(b, "EXT-X-PART") {
				t.Errorf("playlist should state the key once and keep its parts:\n%s", b)
			}
			mpd := body(t, f.do(http.MethodGet, "/live/ch1/manifest.mpd"))
			for _, w := range []string{
				`schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="` + string(tc.scheme) + `"></ContentProtection>`,
				`cenc:default_KID="abababab-abab-abab-abab-abababababab"`,
				`schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" value="ClearKey1.0"`,
				`licenseType="EME-1.0">http://example.com/license/ch1/clearkey</dashif:Laurl>`,
			} {
				if !strings.Contains(mpd, w) {
					t.Errorf("MPD lacks %s:\n%s", w, mpd)
				}
			}
			if strings.Contains(mpd, "cenc:pssh") {
				t.Error("MPD carries a pssh (dash.js then fails: the init segment's is the one browsers read)")
			}
			if n := strings.Count(mpd, "mp4protection"); n != 2 {
				t.Errorf("%d mp4protection descriptors, want one per AdaptationSet (2)", n)
			}
		})
	}
}

// TestCENCRotationSignalling: a cbcs rendition whose key changes at
// segment 3 (with a new init, as the packager publishes it) states the
// new KEYID in HLS where it changes, and the MPD's Period for the new
// init carries the new key as its default KID, the first Period the old.
func TestCENCRotationSignalling(t *testing.T) {
	f := newFixture(t, Config{})
	info := info360()
	info.Protection = live.Protection{Scheme: live.SchemeCBCS, Key: kid(0x01)}
	r := f.rendition(info)
	for n := int64(0); n < 6; n++ {
		if n == 3 {
			info.Protection.Key = kid(0x02)
			r.SetInit(info, live.InitName(false, 3), []byte("init 2"))
		}
		r.SetKey(info.Protection.Key)
		f.segment(r, n, false)
	}
	b := body(t, f.get("/live/ch1/360p/index.m3u8"))
	first, second := "KEYID=0x"+kid(0x01).Hex(), "KEYID=0x"+kid(0x02).Hex()
	if strings.Count(b, first) != 1 || strings.Count(b, second) != 1 ||
		strings.Index(b, first) > strings.Index(b, "3.m4s") || strings.Index(b, second) > strings.Index(b, "3.m4s") ||
		strings.Index(b, second) < strings.Index(b, "2.m4s") {
		t.Errorf("keys not stated once each where they apply:\n%s", b)
	}
	if strings.Contains(b, "EXT-X-DISCONTINUITY\n") {
		t.Errorf("a key change is not a discontinuity:\n%s", b)
	}
	mpd := body(t, f.do(http.MethodGet, "/live/ch1/manifest.mpd"))
	p0, p3 := strings.Index(mpd, `<Period id="0"`), strings.Index(mpd, `<Period id="3"`)
	if p0 < 0 || p3 < 0 {
		t.Fatalf("want Periods 0 and 3:\n%s", mpd)
	}
	uuid := func(k live.KeyID) string { return `cenc:default_KID="` + k.UUID() + `"` }
	if !strings.Contains(mpd[p0:p3], uuid(kid(0x01))) || !strings.Contains(mpd[p3:], uuid(kid(0x02))) || strings.Contains(mpd[p3:], uuid(kid(0x01))) {
		t.Errorf("Periods do not carry their own keys:\n%s", mpd)
	}
}
