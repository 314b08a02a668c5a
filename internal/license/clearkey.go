package license

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// Clear Key session types (W3C Encrypted Media Extensions, section 9.1.3
// "License Request Format"). Only temporary sessions get keys: a live
// stream's keys rotate, and a persistent license would outlive the token.
const clearKeyTemporary = "temporary"

// clearKeyRequest is the license request a Clear Key CDM generates:
// {"kids":["<base64url KID>",...],"type":"temporary"}.
type clearKeyRequest struct {
	Kids []string `json:"kids"`
	Type string   `json:"type"`
}

// parseClearKeyRequest parses a Clear Key license request (EME section
// 9.1.3): a JSON object whose "kids" is a non-empty array of key IDs,
// each 16 bytes in base64url without padding (RFC 4648 section 5;
// exactly 22 characters, canonical, so one KID has one spelling), and
// whose "type", if present, is "temporary". Members other than kids and
// type are ignored; a key ID listed twice is returned once, in the order
// of first appearance. More than maxKids distinct IDs is an error.
func parseClearKeyRequest(body []byte, maxKids int) ([][16]byte, error) {
	var req clearKeyRequest
	if err := json.Unmarshal(body, &req); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return nil, fmt.Errorf("clear key request: invalid JSON at offset %d", syn.Offset)
		case errors.As(err, &typ):
			return nil, fmt.Errorf("clear key request: member %q has the wrong type", typ.Field)
		}
		return nil, fmt.Errorf("clear key request: invalid JSON")
	}
	if req.Type != "" && req.Type != clearKeyTemporary {
		return nil, fmt.Errorf("clear key request: session type is not %q", clearKeyTemporary)
	}
	if len(req.Kids) == 0 {
		return nil, fmt.Errorf("clear key request: no kids")
	}
	kids := make([][16]byte, 0, min(len(req.Kids), maxKids))
next:
	for i, s := range req.Kids {
		kid, ok := decodeKid(s)
		if !ok {
			return nil, fmt.Errorf("clear key request: kids[%d] is not a 16-byte base64url key id", i)
		}
		for _, k := range kids {
			if k == kid {
				continue next
			}
		}
		if len(kids) == maxKids {
			return nil, fmt.Errorf("clear key request: more than %d kids", maxKids)
		}
		kids = append(kids, kid)
	}
	return kids, nil
}

// decodeKid decodes a base64url key ID without padding, canonical only.
func decodeKid(s string) ([16]byte, bool) {
	var kid [16]byte
	if len(s) != 22 {
		return kid, false
	}
	n, err := base64.RawURLEncoding.Strict().Decode(kid[:], []byte(s))
	return kid, err == nil && n == 16
}

// clearKeyKey is one key of a Clear Key license: a JSON Web Key (RFC
// 7517) of type "oct" whose kid and k are base64url without padding.
type clearKeyKey struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	K   string `json:"k"`
}

// clearKeyLicense is a Clear Key license (EME section 9.1.4 "License
// Format"): a JSON Web Key Set with the session type.
type clearKeyLicense struct {
	Keys []clearKeyKey `json:"keys"`
	Type string        `json:"type"`
}

// encodeClearKeyLicense returns the license giving keys[i] for kids[i].
func encodeClearKeyLicense(kids [][16]byte, keys [][]byte) ([]byte, error) {
	l := clearKeyLicense{Keys: make([]clearKeyKey, len(kids)), Type: clearKeyTemporary}
	for i := range kids {
		l.Keys[i] = clearKeyKey{
			Kty: "oct",
			Kid: base64.RawURLEncoding.EncodeToString(kids[i][:]),
			K:   base64.RawURLEncoding.EncodeToString(keys[i]),
		}
	}
	out, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("encode clear key license: %w", err)
	}
	return out, nil
}
