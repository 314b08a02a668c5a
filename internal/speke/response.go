package speke

import (
	"errors"
	"fmt"
	"strings"

	"onair/internal/cpix"
)

// read checks doc as the answer to the checked request r and extracts
// the keys and signaling. Every problem is reported, wrapped in
// ErrInvalidResponse (or ErrVersion for a CPIX version other than 2.3).
func (r Request) read(doc *cpix.Document) (Response, error) {
	if doc.Version != cpix.Version {
		return Response{}, fmt.Errorf("%w: CPIX@version %q, want %q", ErrVersion, excerpt([]byte(doc.Version), 20), cpix.Version)
	}
	var problems []error
	add := func(format string, a ...any) { problems = append(problems, fmt.Errorf(format, a...)) }
	if err := doc.Validate(); err != nil {
		problems = append(problems, err)
	}
	if doc.ContentID != r.ContentID {
		add("contentId %q, requested %q", excerpt([]byte(doc.ContentID), 64), r.ContentID)
	}
	if doc.DeliveryDataList != nil {
		add("encrypted key delivery (DeliveryDataList) is not supported")
	}
	resp := Response{Document: doc}
	requested := map[cpix.UUID]bool{}
	for _, kid := range r.KIDs {
		requested[kid] = true
		k := doc.Key(kid)
		if k == nil {
			add("no ContentKey for requested kid %s", cpix.UUID(kid))
			continue
		}
		if k.CommonEncryptionScheme != r.Scheme {
			add("ContentKey %s has commonEncryptionScheme %q, requested %q", cpix.UUID(kid), excerpt([]byte(k.CommonEncryptionScheme), 16), r.Scheme)
		}
		value, err := k.Value()
		if err != nil {
			problems = append(problems, err)
			continue
		}
		iv, err := k.IV()
		if err != nil {
			problems = append(problems, err)
			continue
		}
		resp.Keys = append(resp.Keys, Key{KID: kid, Value: value, IV: iv})
	}
	for _, k := range doc.ContentKeys {
		if u, err := cpix.ParseUUID(k.KID); err == nil && !requested[u] {
			add("ContentKey %s was not requested", u)
		}
	}
	for _, sys := range r.DRMSystems {
		sysID, _ := cpix.ParseUUID(sys) // canonical: checked by Request.check
		want := elementsFor(sys, r.Scheme)
		for _, kid := range r.KIDs {
			d, errs := readDRM(doc, sysID, kid, want)
			problems = append(problems, errs...)
			resp.DRM = append(resp.DRM, d)
		}
	}
	if len(problems) > 0 {
		return Response{}, fmt.Errorf("%w: %w", ErrInvalidResponse, errors.Join(problems...))
	}
	return resp, nil
}

// readDRM extracts and checks the signaling of one system for one key.
func readDRM(doc *cpix.Document, sysID cpix.UUID, kid [16]byte, want elements) (DRMData, []error) {
	out := DRMData{SystemID: sysID.String(), KID: kid}
	at := fmt.Sprintf("DRMSystem %s (%s) for kid %s", sysID, cpix.SystemName(sysID.String()), cpix.UUID(kid))
	s := doc.DRMSystem(sysID, kid)
	if s == nil {
		return out, []error{fmt.Errorf("no %s", at)}
	}
	var problems []error
	value := func(element string, p *string) []byte {
		if p == nil || *p == "" {
			problems = append(problems, fmt.Errorf("%s: %s is missing or empty", at, element))
			return nil
		}
		b, err := cpix.DecodeBase64(*p)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %s: %w", at, element, err))
			return nil
		}
		return b
	}
	if want.pssh {
		if b := value("PSSH", s.PSSH); b != nil {
			if _, err := cpix.ParsePSSH(b); err != nil {
				problems = append(problems, fmt.Errorf("%s: PSSH: %w", at, err))
			}
			out.PSSH = b
		}
	}
	if want.cpd {
		out.ContentProtectionData = string(value("ContentProtectionData", s.ContentProtectionData))
	}
	if want.hls {
		for _, pl := range []struct {
			kind, tag string
			dst       *string
		}{
			{cpix.PlaylistMedia, "#EXT-X-KEY:", &out.HLSSignalingMedia},
			{cpix.PlaylistMaster, "#EXT-X-SESSION-KEY:", &out.HLSSignalingMaster},
		} {
			element := fmt.Sprintf("HLSSignalingData[@playlist=%q]", pl.kind)
			h := s.HLS(pl.kind)
			var v *string
			if h != nil {
				v = &h.Value
			}
			line := string(value(element, v))
			if line != "" && !strings.Contains(line, pl.tag) {
				problems = append(problems, fmt.Errorf("%s: %s holds no %s tag: %q", at, element, strings.TrimSuffix(pl.tag, ":"), excerpt([]byte(line), 80)))
			}
			*pl.dst = line
		}
	}
	return out, problems
}
