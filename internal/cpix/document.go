package cpix

import "encoding/xml"

// XML namespaces of a CPIX document.
const (
	NamespaceCPIX = "urn:dashif:org:cpix"                 // cpix: prefix
	NamespacePSKC = "urn:ietf:params:xml:ns:keyprov:pskc" // pskc: prefix (RFC 6030)
)

// Version is the CPIX version SPEKE v2.0 requires in CPIX@version.
const Version = "2.3"

// Common Encryption protection schemes (ISO/IEC 23001-7 section 4.2), the
// values of ContentKey@commonEncryptionScheme.
const (
	SchemeCENC = "cenc" // AES-CTR, full sample
	SchemeCBC1 = "cbc1" // AES-CBC, full sample
	SchemeCENS = "cens" // AES-CTR, subsample pattern
	SchemeCBCS = "cbcs" // AES-CBC, subsample pattern, constant IV
)

// Values of HLSSignalingData@playlist.
const (
	PlaylistMedia  = "media"  // an EXT-X-KEY line for media playlists
	PlaylistMaster = "master" // an EXT-X-SESSION-KEY line for the multivariant playlist
)

// Document is a CPIX document (the root CPIX element).
type Document struct {
	XMLName xml.Name `xml:"urn:dashif:org:cpix CPIX"`
	// ContentID names the content the keys protect (CPIX@contentId;
	// SPEKE v2 replaced CPIX@id with it). Required.
	ContentID string `xml:"contentId,attr"`
	// Version is CPIX@version, "2.3" for SPEKE v2.0.
	Version string `xml:"version,attr"`

	// DeliveryDataList, when non-nil, asks for (or carries) content keys
	// encrypted to a recipient's certificate. It is kept opaque: this
	// package does not implement encrypted delivery, and Marshal refuses
	// it.
	DeliveryDataList *Opaque `xml:"urn:dashif:org:cpix DeliveryDataList"`

	ContentKeys       []ContentKey          `xml:"urn:dashif:org:cpix ContentKeyList>ContentKey"`
	DRMSystems        []DRMSystem           `xml:"urn:dashif:org:cpix DRMSystemList>DRMSystem"`
	ContentKeyPeriods []ContentKeyPeriod    `xml:"urn:dashif:org:cpix ContentKeyPeriodList>ContentKeyPeriod"`
	UsageRules        []ContentKeyUsageRule `xml:"urn:dashif:org:cpix ContentKeyUsageRuleList>ContentKeyUsageRule"`
}

// Opaque is an element kept as its raw inner XML, only to know that it
// was there.
type Opaque struct {
	Inner []byte `xml:",innerxml"`
}

// ContentKey is one content key (CPIX ContentKey element).
type ContentKey struct {
	// KID is the key ID, a UUID in text form. Required.
	KID string `xml:"kid,attr"`
	// CommonEncryptionScheme is cenc, cbc1, cens or cbcs. Required in
	// CPIX 2.3.
	CommonEncryptionScheme string `xml:"commonEncryptionScheme,attr"`
	// ExplicitIV is the base64 of a 16-byte IV, when the key comes with
	// one (e.g. the constant IV of cbcs, or the AES-128 IV of HLS).
	// Optional.
	ExplicitIV string `xml:"explicitIV,attr,omitempty"`
	// Data carries the key value; nil in a request.
	Data *KeyData `xml:"urn:dashif:org:cpix Data"`
}

// KeyData is the Data element of a ContentKey.
type KeyData struct {
	Secret Secret `xml:"urn:ietf:params:xml:ns:keyprov:pskc Secret"`
}

// Secret is the pskc:Secret element (RFC 6030 section 6.1): the key
// either in clear (PlainValue, base64 of 16 bytes) or encrypted.
type Secret struct {
	PlainValue *string `xml:"urn:ietf:params:xml:ns:keyprov:pskc PlainValue"`
	// EncryptedValue is kept opaque (see Document.DeliveryDataList).
	EncryptedValue *Opaque `xml:"urn:ietf:params:xml:ns:keyprov:pskc EncryptedValue"`
}

// DRMSystem is the signaling of one DRM system for one key (CPIX
// DRMSystem element). In a SPEKE request each child element present (even
// empty) is one the key provider must fill; all values are base64.
type DRMSystem struct {
	// KID is the key ID this signaling is for; it must name a ContentKey.
	KID string `xml:"kid,attr"`
	// SystemID is the DRM system ID, a UUID (see ClearKeySystemID...).
	SystemID string `xml:"systemId,attr"`
	// PSSH is the base64 of a whole 'pssh' box for the init segment.
	PSSH *string `xml:"urn:dashif:org:cpix PSSH"`
	// ContentProtectionData is the base64 of the XML children to put
	// under this system's DASH ContentProtection element.
	ContentProtectionData *string `xml:"urn:dashif:org:cpix ContentProtectionData"`
	// URIExtXKey is the SPEKE v1 form of HLS signaling, deprecated by
	// SPEKE v2 in favour of HLSSignalingData; read and written as is.
	URIExtXKey *string `xml:"urn:dashif:org:cpix URIExtXKey"`
	// HLSSignalingData holds the HLS key lines, one per playlist kind.
	HLSSignalingData []HLSSignalingData `xml:"urn:dashif:org:cpix HLSSignalingData"`
	// SmoothStreamingProtectionHeaderData is the base64 of the Smooth
	// Streaming protection header (PlayReady).
	SmoothStreamingProtectionHeaderData *string `xml:"urn:dashif:org:cpix SmoothStreamingProtectionHeaderData"`
}

// HLSSignalingData is the base64 of the complete HLS tag line(s) for one
// playlist kind: EXT-X-KEY for "media", EXT-X-SESSION-KEY for "master".
type HLSSignalingData struct {
	// Playlist is "media" or "master"; absent means "media".
	Playlist string `xml:"playlist,attr,omitempty"`
	Value    string `xml:",chardata"`
}

// ContentKeyPeriod is one key period for key rotation.
type ContentKeyPeriod struct {
	// ID is the period's XML ID, referred to by KeyPeriodFilter@periodId.
	ID string `xml:"id,attr"`
	// Index is the period number (decimal); SPEKE uses only this.
	Index string `xml:"index,attr,omitempty"`
	// Start and End (xs:dateTime) bound the period when Index is absent.
	Start string `xml:"start,attr,omitempty"`
	End   string `xml:"end,attr,omitempty"`
}

// ContentKeyUsageRule says which tracks (and periods) a key encrypts.
type ContentKeyUsageRule struct {
	// KID names the ContentKey the rule is for.
	KID string `xml:"kid,attr"`
	// IntendedTrackType labels the tracks: ALL, VIDEO, AUDIO, SD, HD...
	// (see TrackTypes).
	IntendedTrackType string            `xml:"intendedTrackType,attr,omitempty"`
	KeyPeriodFilters  []KeyPeriodFilter `xml:"urn:dashif:org:cpix KeyPeriodFilter"`
	VideoFilters      []VideoFilter     `xml:"urn:dashif:org:cpix VideoFilter"`
	AudioFilters      []AudioFilter     `xml:"urn:dashif:org:cpix AudioFilter"`
}

// KeyPeriodFilter restricts a usage rule to one ContentKeyPeriod.
type KeyPeriodFilter struct {
	PeriodID string `xml:"periodId,attr"`
}

// VideoFilter restricts a usage rule to video tracks, optionally by
// picture size (pixels per frame, decimal) and frame rate.
type VideoFilter struct {
	MinPixels string `xml:"minPixels,attr,omitempty"`
	MaxPixels string `xml:"maxPixels,attr,omitempty"`
	HDR       string `xml:"hdr,attr,omitempty"`
	WCG       string `xml:"wcg,attr,omitempty"`
	MinFPS    string `xml:"minFps,attr,omitempty"`
	MaxFPS    string `xml:"maxFps,attr,omitempty"`
}

// AudioFilter restricts a usage rule to audio tracks, optionally by
// channel count (decimal).
type AudioFilter struct {
	MinChannels string `xml:"minChannels,attr,omitempty"`
	MaxChannels string `xml:"maxChannels,attr,omitempty"`
}

// Key returns the key with ID kid, or nil.
func (d *Document) Key(kid UUID) *ContentKey {
	for i := range d.ContentKeys {
		if u, err := ParseUUID(d.ContentKeys[i].KID); err == nil && u == kid {
			return &d.ContentKeys[i]
		}
	}
	return nil
}

// DRMSystem returns the DRMSystem for systemID and kid, or nil.
func (d *Document) DRMSystem(systemID, kid UUID) *DRMSystem {
	for i := range d.DRMSystems {
		s := &d.DRMSystems[i]
		id, err1 := ParseUUID(s.SystemID)
		k, err2 := ParseUUID(s.KID)
		if err1 == nil && err2 == nil && id == systemID && k == kid {
			return s
		}
	}
	return nil
}

// Value returns the key's PlainValue decoded, or an error if the key has
// none or it is not 16 bytes of base64.
func (k *ContentKey) Value() ([]byte, error) {
	if k.Data == nil || k.Data.Secret.PlainValue == nil {
		if k.Data != nil && k.Data.Secret.EncryptedValue != nil {
			return nil, errorf("content key %s: encrypted key values are not supported", k.KID)
		}
		return nil, errorf("content key %s: no key value", k.KID)
	}
	v, err := decode16(*k.Data.Secret.PlainValue)
	if err != nil {
		return nil, errorf("content key %s: PlainValue: %w", k.KID, err)
	}
	return v, nil
}

// IV returns the key's explicitIV decoded, nil if it has none.
func (k *ContentKey) IV() ([]byte, error) {
	if k.ExplicitIV == "" {
		return nil, nil
	}
	v, err := decode16(k.ExplicitIV)
	if err != nil {
		return nil, errorf("content key %s: explicitIV: %w", k.KID, err)
	}
	return v, nil
}

// SetValue stores key (and iv, if not nil) in clear as the key's value.
func (k *ContentKey) SetValue(key, iv []byte) {
	v := encodeBase64(key)
	k.Data = &KeyData{Secret: Secret{PlainValue: &v}}
	if iv != nil {
		k.ExplicitIV = encodeBase64(iv)
	}
}

// HLS returns the HLSSignalingData element for playlist ("media" or
// "master"), or nil. An element without playlist attribute is "media".
func (s *DRMSystem) HLS(playlist string) *HLSSignalingData {
	for i := range s.HLSSignalingData {
		if s.HLSSignalingData[i].PlaylistKind() == playlist {
			return &s.HLSSignalingData[i]
		}
	}
	return nil
}

// PlaylistKind returns Playlist, "media" when absent.
func (h HLSSignalingData) PlaylistKind() string {
	if h.Playlist == "" {
		return PlaylistMedia
	}
	return h.Playlist
}
