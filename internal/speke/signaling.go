package speke

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"onair/internal/cpix"
)

// URL template placeholders (ProviderConfig.LicenseURL and KeyURL).
const (
	PlaceholderContentID = "{content_id}" // the CPIX contentId, path-escaped
	PlaceholderKID       = "{kid}"        // the key ID as a UUID, 873f3740-2508-...
	PlaceholderKIDHex    = "{kid_hex}"    // the key ID as 32 lowercase hex digits
)

// urlTemplate is a URL with placeholders, checked once by parseTemplate.
type urlTemplate string

// parseTemplate checks that t, with its placeholders filled, is an
// absolute http or https URL that can stand in an HLS quoted string and
// in XML: no unknown {placeholder}, no '"', no spaces or control
// characters.
func parseTemplate(t string) (urlTemplate, error) {
	sample := urlTemplate(t).expand("content", cpix.UUID{})
	if strings.ContainsAny(sample, "{}") {
		return "", fmt.Errorf("URL template %q: unknown placeholder (known: %s, %s, %s)", t, PlaceholderContentID, PlaceholderKID, PlaceholderKIDHex)
	}
	if strings.ContainsFunc(sample, func(r rune) bool { return r <= ' ' || r == '"' || r == 0x7f }) {
		return "", fmt.Errorf("URL template %q: has a space, quote or control character", t)
	}
	u, err := url.Parse(sample)
	if err != nil {
		return "", fmt.Errorf("URL template %q: %w", t, err)
	}
	switch u.Scheme {
	case "http", "https":
	case "skd":
		return "", fmt.Errorf("URL template %q: skd:// is the FairPlay key URI scheme; this key provider serves W3C Clear Key over http(s)", t)
	default:
		return "", fmt.Errorf("URL template %q: scheme %q, want http or https", t, u.Scheme)
	}
	if u.Host == "" {
		return "", fmt.Errorf("URL template %q: no host", t)
	}
	return urlTemplate(t), nil
}

// expand fills the placeholders for one content ID and key.
func (t urlTemplate) expand(contentID string, kid cpix.UUID) string {
	return strings.NewReplacer(
		PlaceholderContentID, url.PathEscape(contentID),
		PlaceholderKID, kid.String(),
		PlaceholderKIDHex, kid.Hex(),
	).Replace(string(t))
}

// errNotSignalable marks a requested element the provider cannot fill.
var errNotSignalable = errors.New("cannot be filled")

// hlsSampleMethod returns the EXT-X-KEY METHOD of a CMAF scheme
// (RFC 8216bis section 4.4.4.4): SAMPLE-AES for cbcs, SAMPLE-AES-CTR for
// cenc. HLS has no method for cbc1 and cens.
func hlsSampleMethod(scheme string) (string, error) {
	switch scheme {
	case cpix.SchemeCBCS:
		return "SAMPLE-AES", nil
	case cpix.SchemeCENC:
		return "SAMPLE-AES-CTR", nil
	}
	return "", fmt.Errorf("HLS has no key method for scheme %q (only cbcs and cenc): %w", scheme, errNotSignalable)
}

// hlsKeyLines returns the EXT-X-KEY line for media playlists and the
// EXT-X-SESSION-KEY line for the multivariant playlist, with the same
// attributes (RFC 8216bis sections 4.4.4.4 and 4.4.6.5). keyID and iv are
// written when not nil.
func hlsKeyLines(method, uri string, keyID *cpix.UUID, iv []byte, keyFormat string) (media, master string) {
	var b strings.Builder
	b.WriteString("METHOD=")
	b.WriteString(method)
	b.WriteString(`,URI="`)
	b.WriteString(uri)
	b.WriteByte('"')
	if keyID != nil {
		// KEYID carries the KID for players (hls.js) that want it before
		// the init segment; clients ignore attributes they do not know.
		b.WriteString(",KEYID=0x")
		b.WriteString(keyID.Hex())
	}
	if iv != nil {
		fmt.Fprintf(&b, ",IV=0x%x", iv)
	}
	b.WriteString(`,KEYFORMAT="`)
	b.WriteString(keyFormat)
	b.WriteString(`",KEYFORMATVERSIONS="1"`)
	attrs := b.String()
	return "#EXT-X-KEY:" + attrs, "#EXT-X-SESSION-KEY:" + attrs
}

// HLS KEYFORMAT values.
const (
	keyFormatClearKey = "org.w3.clearkey" // W3C Clear Key through EME
	keyFormatIdentity = "identity"        // the URI returns the 16-byte key
)

// cencPSSH is the DASH cenc:pssh element (ISO/IEC 23001-7 section 11.2.1)
// holding a base64 pssh box.
func cencPSSH(pssh []byte) string {
	return `<cenc:pssh xmlns:cenc="urn:mpeg:cenc:2013">` + cpix.EncodeBase64(pssh) + `</cenc:pssh>`
}

// laurl is the DASH-IF content protection license acquisition URL
// element for W3C Clear Key (DASH-IF IOP content protection,
// dashif:Laurl with licenseType "EME-1.0"), as dash.js and Shaka read it.
func laurl(u string) string {
	return `<dashif:Laurl xmlns:dashif="https://dashif.org/CPS" licenseType="EME-1.0">` + xmlEscape(u) + `</dashif:Laurl>`
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}
