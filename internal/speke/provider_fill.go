package speke

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"onair/internal/cpix"
)

// systemKind is what the provider knows of a DRM system ID.
type systemKind int

const (
	kindUnsupported systemKind = iota
	kindClearKey               // W3C Clear Key
	kindCommon                 // W3C Common PSSH
	kindAES128                 // HLS AES-128 with a key URL
)

func kindOf(systemID string) systemKind {
	switch strings.ToLower(systemID) {
	case cpix.ClearKeySystemID:
		return kindClearKey
	case cpix.CommonSystemID:
		return kindCommon
	case cpix.ClearKeyAES128SystemID, cpix.HLSAES128SystemID:
		return kindAES128
	}
	return kindUnsupported
}

// issued is a key as the provider returns it.
type issued struct {
	scheme string
	iv     []byte // nil: none
}

// fill puts keys and signaling into a valid request document.
func (p *Provider) fill(ctx context.Context, doc *cpix.Document) *providerError {
	if doc.DeliveryDataList != nil {
		return refuse(http.StatusBadRequest, resultUnsupported,
			"encrypted content key delivery (DeliveryDataList) is not supported: this key provider returns keys as pskc:PlainValue over an authenticated connection")
	}
	schemes := map[cpix.UUID]string{}
	for _, k := range doc.ContentKeys {
		kid, _ := cpix.ParseUUID(k.KID) // valid: checked by Validate
		schemes[kid] = k.CommonEncryptionScheme
		if k.Data != nil {
			return refuse(http.StatusBadRequest, resultUnsupported,
				"ContentKey %s already carries a key value: this key provider issues the keys itself", kid)
		}
	}
	// Refuse what cannot be signaled before any key leaves the store.
	for i := range doc.DRMSystems {
		s := &doc.DRMSystems[i]
		kid, _ := cpix.ParseUUID(s.KID)
		if err := p.signal(s, doc.ContentID, kid, issued{scheme: schemes[kid]}, true); err != nil {
			return refuse(http.StatusBadRequest, resultUnsupported, "DRMSystem[%d] %s", i, err)
		}
	}
	keys := map[cpix.UUID]issued{}
	for i := range doc.ContentKeys {
		k := &doc.ContentKeys[i]
		kid, _ := cpix.ParseUUID(k.KID)
		is, perr := p.issue(ctx, doc.ContentID, kid, k)
		if perr != nil {
			return perr
		}
		keys[kid] = is
	}
	for i := range doc.DRMSystems {
		s := &doc.DRMSystems[i]
		kid, _ := cpix.ParseUUID(s.KID)
		if err := p.signal(s, doc.ContentID, kid, keys[kid], false); err != nil {
			return &providerError{status: http.StatusInternalServerError, result: resultInternal, msg: "internal error", cause: err}
		}
	}
	return nil
}

// issue asks the key source for one key and stores it in k.
func (p *Provider) issue(ctx context.Context, contentID string, kid cpix.UUID, k *cpix.ContentKey) (issued, *providerError) {
	key, iv, err := p.keys.ContentKey(ctx, contentID, kid, k.CommonEncryptionScheme)
	switch {
	case errors.Is(err, ErrKeyRefused):
		e := refuse(http.StatusForbidden, resultRefused, "key refused for content %q, kid %s", excerpt([]byte(contentID), 64), kid)
		e.cause = err
		return issued{}, e
	case err != nil:
		e := refuse(http.StatusServiceUnavailable, resultUnavailable, "key source unavailable, try again")
		e.cause = fmt.Errorf("content key %s: %w", kid, err)
		return issued{}, e
	case len(key) != 16:
		return issued{}, &providerError{status: http.StatusInternalServerError, result: resultInternal, msg: "internal error",
			cause: fmt.Errorf("key source gave a %d-byte key for %s", len(key), kid)}
	case iv != nil && len(iv) != 16:
		return issued{}, &providerError{status: http.StatusInternalServerError, result: resultInternal, msg: "internal error",
			cause: fmt.Errorf("key source gave a %d-byte IV for %s", len(iv), kid)}
	}
	if iv == nil {
		iv, _ = k.IV() // the encryptor's own explicitIV, valid: checked by Validate
	}
	k.SetValue(key, iv)
	return issued{scheme: k.CommonEncryptionScheme, iv: iv}, nil
}

// signal fills the elements s carries for the key kid; with check set it
// only reports whether it could.
func (p *Provider) signal(s *cpix.DRMSystem, contentID string, kid cpix.UUID, key issued, check bool) error {
	kind := kindOf(s.SystemID)
	if kind == kindUnsupported {
		return fmt.Errorf("systemId %s (%s) is not supported: this key provider serves W3C Clear Key (%s), W3C Common PSSH (%s) and Clear Key AES-128 (%s, %s); Widevine, PlayReady and FairPlay need a DRM vendor's SPEKE endpoint",
			s.SystemID, cpix.SystemName(s.SystemID), cpix.ClearKeySystemID, cpix.CommonSystemID, cpix.ClearKeyAES128SystemID, cpix.HLSAES128SystemID)
	}
	name := cpix.SystemName(s.SystemID)
	no := func(element, why string) error {
		return fmt.Errorf("(%s, kid %s): %s %s: %w", name, kid, element, why, errNotSignalable)
	}
	if s.SmoothStreamingProtectionHeaderData != nil {
		return no("SmoothStreamingProtectionHeaderData", "is PlayReady-only")
	}
	if s.URIExtXKey != nil {
		return no("URIExtXKey", "is SPEKE v1 signaling; SPEKE v2 uses HLSSignalingData")
	}
	if kind == kindAES128 && (s.PSSH != nil || s.ContentProtectionData != nil) {
		return no("PSSH/ContentProtectionData", "does not exist for HLS AES-128 (whole-segment encryption)")
	}
	if kind == kindAES128 && p.keyURL == "" {
		return no("HLSSignalingData", "needs a key URL, and none is configured on this key provider")
	}
	if kind == kindCommon && len(s.HLSSignalingData) > 0 {
		return no("HLSSignalingData", "does not exist for the W3C Common PSSH system; ask for W3C Clear Key")
	}
	var media, master string
	if len(s.HLSSignalingData) > 0 {
		switch kind {
		case kindClearKey:
			method, err := hlsSampleMethod(key.scheme)
			if err != nil {
				return fmt.Errorf("(%s, kid %s): HLSSignalingData: %w", name, kid, err)
			}
			media, master = hlsKeyLines(method, p.licenseURL.expand(contentID, kid), &kid, nil, keyFormatClearKey)
		case kindAES128:
			media, master = hlsKeyLines("AES-128", p.keyURL.expand(contentID, kid), nil, key.iv, keyFormatIdentity)
		}
	}
	if check {
		return nil
	}
	if s.PSSH != nil || s.ContentProtectionData != nil {
		pssh := cpix.ClearKeyPSSH(kid)
		if s.PSSH != nil {
			v := cpix.EncodeBase64(pssh)
			s.PSSH = &v
		}
		if s.ContentProtectionData != nil {
			cpd := cencPSSH(pssh)
			if kind == kindClearKey {
				cpd += laurl(p.licenseURL.expand(contentID, kid))
			}
			v := cpix.EncodeBase64([]byte(cpd))
			s.ContentProtectionData = &v
		}
	}
	for i := range s.HLSSignalingData {
		h := &s.HLSSignalingData[i]
		line := media
		if h.PlaylistKind() == cpix.PlaylistMaster {
			line = master
		}
		h.Value = cpix.EncodeBase64([]byte(line))
	}
	return nil
}
