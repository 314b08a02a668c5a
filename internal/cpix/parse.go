package cpix

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// Limits of Parse. A SPEKE document for a live channel holds a handful of
// keys and a few kilobytes of PSSH data; a megabyte leaves room for
// hundreds of keys with every DRM system.
const (
	MaxDocumentSize = 1 << 20 // bytes
	MaxDepth        = 16      // element nesting; CPIX needs 5
)

// Parse decodes a CPIX document. It checks form, not content: call
// Validate for the CPIX rules. Errors wrap ErrMalformed or ErrTooLarge and
// carry the line of the problem when encoding/xml reports one.
func Parse(data []byte) (*Document, error) {
	if len(data) > MaxDocumentSize {
		return nil, errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), MaxDocumentSize)
	}
	if err := scan(data); err != nil {
		return nil, err
	}
	var doc Document
	if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, malformed("%v", err)
	}
	doc.trim()
	return &doc, nil
}

// scan walks the tokens once to refuse what encoding/xml would accept
// but a CPIX document must not have: DOCTYPE (entity declarations, the
// root of XML bombs and external entity tricks), nesting beyond MaxDepth,
// text or a second element outside the root.
func scan(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	depth, roots := 0, 0
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return malformed("%v", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return malformed("line %d: DOCTYPE and other <!...> declarations are not allowed", line(d))
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 {
					return malformed("line %d: a second root element <%s>", line(d), t.Name.Local)
				}
			}
			depth++
			if depth > MaxDepth {
				return errorf("%w: line %d: elements nested deeper than %d", ErrTooLarge, line(d), MaxDepth)
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return malformed("line %d: text outside the root element", line(d))
			}
		}
	}
	if depth != 0 {
		return malformed("unexpected end of document")
	}
	if roots == 0 {
		return malformed("no root element")
	}
	return nil
}

func line(d *xml.Decoder) int {
	l, _ := d.InputPos()
	return l
}

// trim removes the whitespace around element text (request documents
// often indent empty elements over several lines).
func (d *Document) trim() {
	t := func(p *string) {
		if p != nil {
			*p = strings.TrimSpace(*p)
		}
	}
	for i := range d.ContentKeys {
		if k := d.ContentKeys[i].Data; k != nil {
			t(k.Secret.PlainValue)
		}
	}
	for i := range d.DRMSystems {
		s := &d.DRMSystems[i]
		t(s.PSSH)
		t(s.ContentProtectionData)
		t(s.URIExtXKey)
		t(s.SmoothStreamingProtectionHeaderData)
		for j := range s.HLSSignalingData {
			t(&s.HLSSignalingData[j].Value)
		}
	}
}
