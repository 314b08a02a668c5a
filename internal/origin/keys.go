package origin

import (
	"errors"
	"strings"

	"github.com/Eyevinn/dash-mpd/mpd"

	"onair/internal/cpix"
	"onair/internal/format/hls"
	"onair/internal/live"
)

// DefaultLicensePath is Config.LicensePath's default.
const DefaultLicensePath = "/license"

// clearKeyFormat is the EXT-X-KEY KEYFORMAT players (hls.js, Shaka) map to
// the org.w3.clearkey key system.
const clearKeyFormat = "org.w3.clearkey"

// errNoDASH is the cause of a 404 for the MPD of an AES-128 channel: DASH
// has no whole-segment encryption.
var errNoDASH = errors.New("DASH is not available for AES-128 channels (HLS only; cbcs serves both)")

// aes128KeyURI is the HLS key URI of an AES-128 key: the license
// endpoint answers it with the raw key for a valid viewer token.
func (o *Origin) aes128KeyURI(channel string, kid live.KeyID) string {
	return o.cfg.LicensePath + "/" + channel + "/aes128/" + kid.Hex()
}

// clearKeyURL is the Clear Key license URL of a channel, absolute on the
// host the client asked for when it is known (see timeURL).
func (o *Origin) clearKeyURL(channel, timeURL string) string {
	p := o.cfg.LicensePath + "/" + channel + "/clearkey"
	if base, ok := strings.CutSuffix(timeURL, "/time"); ok && base != "" {
		return base + p
	}
	return p
}

// hlsKeys returns the EXT-X-KEY of a segment of a rendition with
// protection p, or nil for clear media.
func (o *Origin) hlsKeys(channel string, p live.Protection) func(s *live.Segment) *hls.Key {
	switch p.Scheme {
	case live.SchemeAES128:
		return func(s *live.Segment) *hls.Key {
			return &hls.Key{Method: "AES-128", URI: o.aes128KeyURI(channel, s.Key)}
		}
	case live.SchemeCBCS, live.SchemeCENC:
		method := "SAMPLE-AES"
		if p.Scheme == live.SchemeCENC {
			method = "SAMPLE-AES-CTR"
		}
		// The URI names the key too: hls.js tells keys apart by URI, so
		// with one URI for every key it never asks for a rotated one.
		// The license endpoint ignores the kid parameter.
		key := func(kid live.KeyID) *hls.Key {
			return &hls.Key{Method: method, URI: o.cfg.LicensePath + "/" + channel + "/clearkey?kid=" + kid.Hex(),
				KeyID: kid.Hex(), KeyFormat: clearKeyFormat, KeyFormatVersions: "1"}
		}
		k := key(p.Key)
		return func(s *live.Segment) *hls.Key {
			if s.Key == (live.KeyID{}) || s.Key == p.Key {
				return k
			}
			return key(s.Key) // a rotated key: the segment's own
		}
	}
	return nil
}

// contentProtection returns the ContentProtection descriptors of an
// AdaptationSet with protection p (DASH-IF IOP: the mp4protection scheme
// with the default KID, then W3C Clear Key with the license URL), or nil
// for clear media. The pssh stays in the init segment only: dash.js looks
// in an MPD's cenc:pssh for a box of the Clear Key system ID, but
// browsers read Clear Key key IDs only from the common-system box the
// init carries (W3C "cenc" init data).
func contentProtection(p live.Protection, licenseURL string) []*mpd.ContentProtectionType {
	if p.Scheme != live.SchemeCBCS && p.Scheme != live.SchemeCENC {
		return nil
	}
	mp4 := &mpd.ContentProtectionType{DefaultKID: p.Key.UUID()}
	mp4.SchemeIdUri = "urn:mpeg:dash:mp4protection:2011"
	mp4.Value = string(p.Scheme)
	ck := &mpd.ContentProtectionType{LaURL: &mpd.LaURLType{Value: mpd.AnyURI(licenseURL), LicenseType: "EME-1.0"}}
	ck.SchemeIdUri = "urn:uuid:" + cpix.ClearKeySystemID
	ck.Value = "ClearKey1.0"
	return []*mpd.ContentProtectionType{mp4, ck}
}
