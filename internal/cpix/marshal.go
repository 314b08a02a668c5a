package cpix

import (
	"bytes"
	"encoding/xml"
)

// Marshal encodes d as an indented UTF-8 XML document with an XML
// declaration, the cpix: and pskc: prefixes declared on the root, and
// the elements in CPIX 2.3 schema order. Empty lists are left out; an
// element whose pointer is non-nil is written even when empty (a request
// asking for it). Marshal does not validate: call Validate for that. It
// refuses, with ErrUnsupported, a document holding a DeliveryDataList or
// a pskc:EncryptedValue, whose contents it does not keep.
func Marshal(d *Document) ([]byte, error) {
	if d.DeliveryDataList != nil {
		return nil, errorf("%w: DeliveryDataList (encrypted key delivery)", ErrUnsupported)
	}
	for _, k := range d.ContentKeys {
		if k.Data != nil && k.Data.Secret.EncryptedValue != nil {
			return nil, errorf("%w: content key %s: pskc:EncryptedValue (encrypted key delivery)", ErrUnsupported, clip(k.KID))
		}
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	w := writer{enc: xml.NewEncoder(&buf)}
	w.enc.Indent("", "  ")
	w.document(d)
	if w.err == nil {
		w.err = w.enc.Close()
	}
	if w.err != nil {
		return nil, errorf("marshal: %w", w.err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// writer emits tokens with literal prefixed names ("cpix:ContentKey"), so
// the output carries the conventional prefixes rather than the default
// namespace declarations encoding/xml would write; the first error
// sticks.
type writer struct {
	enc *xml.Encoder
	err error
}

func (w *writer) start(name string, attrs ...string) {
	if w.err != nil {
		return
	}
	se := xml.StartElement{Name: xml.Name{Local: name}}
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] == "" {
			continue
		}
		se.Attr = append(se.Attr, xml.Attr{Name: xml.Name{Local: attrs[i]}, Value: attrs[i+1]})
	}
	w.err = w.enc.EncodeToken(se)
}

func (w *writer) end(name string) {
	if w.err != nil {
		return
	}
	w.err = w.enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: name}})
}

func (w *writer) text(s string) {
	if w.err != nil || s == "" {
		return
	}
	w.err = w.enc.EncodeToken(xml.CharData(s))
}

// leaf writes <name attrs>text</name>.
func (w *writer) leaf(name, text string, attrs ...string) {
	w.start(name, attrs...)
	w.text(text)
	w.end(name)
}

// optional writes the element if p is not nil.
func (w *writer) optional(name string, p *string) {
	if p != nil {
		w.leaf(name, *p)
	}
}

func (w *writer) document(d *Document) {
	w.start("cpix:CPIX",
		"xmlns:cpix", NamespaceCPIX,
		"xmlns:pskc", NamespacePSKC,
		"contentId", d.ContentID,
		"version", d.Version)
	if len(d.ContentKeys) > 0 {
		w.start("cpix:ContentKeyList")
		for i := range d.ContentKeys {
			w.contentKey(&d.ContentKeys[i])
		}
		w.end("cpix:ContentKeyList")
	}
	if len(d.DRMSystems) > 0 {
		w.start("cpix:DRMSystemList")
		for i := range d.DRMSystems {
			w.drmSystem(&d.DRMSystems[i])
		}
		w.end("cpix:DRMSystemList")
	}
	if len(d.ContentKeyPeriods) > 0 {
		w.start("cpix:ContentKeyPeriodList")
		for _, p := range d.ContentKeyPeriods {
			w.leaf("cpix:ContentKeyPeriod", "", "id", p.ID, "index", p.Index, "start", p.Start, "end", p.End)
		}
		w.end("cpix:ContentKeyPeriodList")
	}
	if len(d.UsageRules) > 0 {
		w.start("cpix:ContentKeyUsageRuleList")
		for i := range d.UsageRules {
			w.usageRule(&d.UsageRules[i])
		}
		w.end("cpix:ContentKeyUsageRuleList")
	}
	w.end("cpix:CPIX")
}

func (w *writer) contentKey(k *ContentKey) {
	w.start("cpix:ContentKey", "kid", k.KID, "commonEncryptionScheme", k.CommonEncryptionScheme, "explicitIV", k.ExplicitIV)
	if k.Data != nil {
		w.start("cpix:Data")
		w.start("pskc:Secret")
		w.optional("pskc:PlainValue", k.Data.Secret.PlainValue)
		w.end("pskc:Secret")
		w.end("cpix:Data")
	}
	w.end("cpix:ContentKey")
}

func (w *writer) drmSystem(s *DRMSystem) {
	w.start("cpix:DRMSystem", "kid", s.KID, "systemId", s.SystemID)
	w.optional("cpix:PSSH", s.PSSH)
	w.optional("cpix:ContentProtectionData", s.ContentProtectionData)
	w.optional("cpix:URIExtXKey", s.URIExtXKey)
	for _, h := range s.HLSSignalingData {
		w.leaf("cpix:HLSSignalingData", h.Value, "playlist", h.Playlist)
	}
	w.optional("cpix:SmoothStreamingProtectionHeaderData", s.SmoothStreamingProtectionHeaderData)
	w.end("cpix:DRMSystem")
}

func (w *writer) usageRule(r *ContentKeyUsageRule) {
	w.start("cpix:ContentKeyUsageRule", "kid", r.KID, "intendedTrackType", r.IntendedTrackType)
	for _, f := range r.KeyPeriodFilters {
		w.leaf("cpix:KeyPeriodFilter", "", "periodId", f.PeriodID)
	}
	for _, f := range r.VideoFilters {
		w.leaf("cpix:VideoFilter", "", "minPixels", f.MinPixels, "maxPixels", f.MaxPixels,
			"hdr", f.HDR, "wcg", f.WCG, "minFps", f.MinFPS, "maxFps", f.MaxFPS)
	}
	for _, f := range r.AudioFilters {
		w.leaf("cpix:AudioFilter", "", "minChannels", f.MinChannels, "maxChannels", f.MaxChannels)
	}
	w.end("cpix:ContentKeyUsageRule")
}
