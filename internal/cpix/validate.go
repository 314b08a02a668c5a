package cpix

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// trackTypeNames returns the ContentKeyUsageRule@intendedTrackType values
// Validate accepts: "ALL" plus the values SPEKE v2.0 documents for its
// encryption contract presets.
func trackTypeNames() []string {
	return []string{"ALL", "VIDEO", "AUDIO", "SD", "HD", "UHD", "SD+HD1", "HD1", "HD2", "UHD1", "UHD2",
		"STEREO_AUDIO", "MULTICHANNEL_AUDIO", "MULTICHANNEL_AUDIO_3_6", "MULTICHANNEL_AUDIO_7"}
}

// IsTrackType reports whether s is an intendedTrackType Validate accepts:
// ALL, VIDEO, AUDIO, SD, HD, UHD, SD+HD1, HD1, HD2, UHD1, UHD2,
// STEREO_AUDIO, MULTICHANNEL_AUDIO, MULTICHANNEL_AUDIO_3_6,
// MULTICHANNEL_AUDIO_7.
func IsTrackType(s string) bool { return slices.Contains(trackTypeNames(), s) }

// IsScheme reports whether s is a Common Encryption scheme name CPIX
// allows in ContentKey@commonEncryptionScheme.
func IsScheme(s string) bool {
	switch s {
	case SchemeCENC, SchemeCBC1, SchemeCENS, SchemeCBCS:
		return true
	}
	return false
}

// Validate checks the CPIX 2.3 rules that matter to a key exchange and
// returns a *ValidationError listing every problem, or nil:
//
//   - CPIX@version is "2.3"; CPIX@contentId is present.
//   - At least one ContentKey. Each has a kid in UUID syntax, unique in
//     the list, and a commonEncryptionScheme of cenc, cbcs, cbc1 or cens.
//   - An explicitIV is base64 of 16 bytes. A Data element holds a
//     pskc:Secret with exactly one of PlainValue (base64 of 16 bytes) or
//     EncryptedValue.
//   - Each DRMSystem has a kid naming a listed ContentKey and a systemId
//     in UUID syntax; no two share kid and systemId. Non-empty PSSH,
//     ContentProtectionData, URIExtXKey, HLSSignalingData and
//     SmoothStreamingProtectionHeaderData are base64; a non-empty PSSH is
//     one 'pssh' box. HLSSignalingData@playlist is "media" or "master",
//     each at most once per DRMSystem.
//   - Each ContentKeyPeriod has an id, unique, and either a decimal index
//     or both start and end (xs:dateTime, start before end).
//   - Each ContentKeyUsageRule has a kid naming a listed ContentKey, an
//     intendedTrackType (IsTrackType), KeyPeriodFilters whose periodId
//     names a listed ContentKeyPeriod, and filter bounds that are
//     decimal numbers with min <= max.
//
// Empty elements are valid: a request carries them for the key provider
// to fill. Whether a response has every value is the reader's check.
func (d *Document) Validate() error {
	var v validator
	if d.Version != Version {
		v.add("CPIX@version is %q, want %q", clip(d.Version), Version)
	}
	if d.ContentID == "" {
		v.add("CPIX@contentId is missing")
	}
	keys := v.contentKeys(d.ContentKeys)
	v.drmSystems(d.DRMSystems, keys)
	periods := v.periods(d.ContentKeyPeriods)
	v.usageRules(d.UsageRules, keys, periods)
	if len(v.problems) > 0 {
		return &ValidationError{Problems: v.problems}
	}
	return nil
}

type validator struct {
	problems []string
}

func (v *validator) add(format string, a ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, a...))
}

// contentKeys checks the keys and returns the set of their valid KIDs.
func (v *validator) contentKeys(list []ContentKey) map[UUID]bool {
	keys := map[UUID]bool{}
	if len(list) == 0 {
		v.add("no ContentKey: ContentKeyList needs at least one")
	}
	for i, k := range list {
		at := fmt.Sprintf("ContentKey[%d]", i)
		if kid, ok := v.uuid(at+"@kid", k.KID); ok {
			if keys[kid] {
				v.add("%s@kid %s is listed twice", at, kid)
			}
			keys[kid] = true
		}
		switch {
		case k.CommonEncryptionScheme == "":
			v.add("%s@commonEncryptionScheme is missing", at)
		case !IsScheme(k.CommonEncryptionScheme):
			v.add("%s@commonEncryptionScheme is %q, want cenc, cbcs, cbc1 or cens", at, clip(k.CommonEncryptionScheme))
		}
		if k.ExplicitIV != "" {
			if _, err := decode16(k.ExplicitIV); err != nil {
				v.add("%s@explicitIV: %v", at, err)
			}
		}
		if k.Data == nil {
			continue
		}
		s := k.Data.Secret
		switch {
		case s.PlainValue == nil && s.EncryptedValue == nil:
			v.add("%s: Data/Secret has neither PlainValue nor EncryptedValue", at)
		case s.PlainValue != nil && s.EncryptedValue != nil:
			v.add("%s: Data/Secret has both PlainValue and EncryptedValue", at)
		case s.PlainValue != nil:
			if _, err := decode16(*s.PlainValue); err != nil {
				v.add("%s: PlainValue: %v", at, err)
			}
		}
	}
	return keys
}

func (v *validator) drmSystems(list []DRMSystem, keys map[UUID]bool) {
	type pair struct{ sys, kid UUID }
	seen := map[pair]bool{}
	for i, s := range list {
		at := fmt.Sprintf("DRMSystem[%d]", i)
		kid, ok1 := v.uuid(at+"@kid", s.KID)
		sys, ok2 := v.uuid(at+"@systemId", s.SystemID)
		if ok1 && !keys[kid] {
			v.add("%s@kid %s names no ContentKey", at, kid)
		}
		if ok1 && ok2 {
			if seen[pair{sys, kid}] {
				v.add("%s: a second DRMSystem for systemId %s and kid %s", at, sys, kid)
			}
			seen[pair{sys, kid}] = true
		}
		if s.PSSH != nil && *s.PSSH != "" {
			if b, err := decodeBase64(*s.PSSH); err != nil {
				v.add("%s: PSSH: %v", at, err)
			} else if _, err := ParsePSSH(b); err != nil {
				v.add("%s: PSSH: %v", at, err)
			}
		}
		v.base64(at+": ContentProtectionData", s.ContentProtectionData)
		v.base64(at+": URIExtXKey", s.URIExtXKey)
		v.base64(at+": SmoothStreamingProtectionHeaderData", s.SmoothStreamingProtectionHeaderData)
		playlists := map[string]bool{}
		for j, h := range s.HLSSignalingData {
			hat := fmt.Sprintf("%s: HLSSignalingData[%d]", at, j)
			switch p := h.PlaylistKind(); p {
			case PlaylistMedia, PlaylistMaster:
				if playlists[p] {
					v.add("%s: a second HLSSignalingData for playlist %q", hat, p)
				}
				playlists[p] = true
			default:
				v.add("%s@playlist is %q, want \"media\" or \"master\"", hat, clip(p))
			}
			v.base64(hat, &h.Value)
		}
	}
}

// periods checks the key periods and returns the set of their IDs.
func (v *validator) periods(list []ContentKeyPeriod) map[string]bool {
	ids := map[string]bool{}
	for i, p := range list {
		at := fmt.Sprintf("ContentKeyPeriod[%d]", i)
		switch {
		case p.ID == "":
			v.add("%s@id is missing", at)
		case ids[p.ID]:
			v.add("%s@id %q is used twice", at, clip(p.ID))
		}
		ids[p.ID] = true
		switch {
		case p.Index != "":
			if _, err := strconv.ParseUint(p.Index, 10, 64); err != nil {
				v.add("%s@index %q is not an unsigned decimal number", at, clip(p.Index))
			}
		case p.Start != "" && p.End != "":
			start, err1 := parseDateTime(p.Start)
			end, err2 := parseDateTime(p.End)
			if err1 != nil {
				v.add("%s@start: %v", at, err1)
			}
			if err2 != nil {
				v.add("%s@end: %v", at, err2)
			}
			if err1 == nil && err2 == nil && !start.Before(end) {
				v.add("%s: start %s is not before end %s", at, p.Start, p.End)
			}
		default:
			v.add("%s has neither index nor start and end", at)
		}
	}
	return ids
}

func (v *validator) usageRules(list []ContentKeyUsageRule, keys map[UUID]bool, periods map[string]bool) {
	for i, r := range list {
		at := fmt.Sprintf("ContentKeyUsageRule[%d]", i)
		if kid, ok := v.uuid(at+"@kid", r.KID); ok && !keys[kid] {
			v.add("%s@kid %s names no ContentKey", at, kid)
		}
		switch {
		case r.IntendedTrackType == "":
			v.add("%s@intendedTrackType is missing", at)
		case !IsTrackType(r.IntendedTrackType):
			v.add("%s@intendedTrackType %q is not one of %s", at, clip(r.IntendedTrackType), trackTypeList())
		}
		for j, f := range r.KeyPeriodFilters {
			if !periods[f.PeriodID] || f.PeriodID == "" {
				v.add("%s: KeyPeriodFilter[%d]@periodId %q names no ContentKeyPeriod", at, j, clip(f.PeriodID))
			}
		}
		for j, f := range r.VideoFilters {
			fat := fmt.Sprintf("%s: VideoFilter[%d]", at, j)
			v.bounds(fat, "Pixels", f.MinPixels, f.MaxPixels)
			v.bounds(fat, "Fps", f.MinFPS, f.MaxFPS)
			v.boolean(fat+"@hdr", f.HDR)
			v.boolean(fat+"@wcg", f.WCG)
		}
		for j, f := range r.AudioFilters {
			v.bounds(fmt.Sprintf("%s: AudioFilter[%d]", at, j), "Channels", f.MinChannels, f.MaxChannels)
		}
	}
}

// uuid checks a required UUID attribute.
func (v *validator) uuid(at, s string) (UUID, bool) {
	if s == "" {
		v.add("%s is missing", at)
		return UUID{}, false
	}
	u, err := ParseUUID(s)
	if err != nil {
		v.add("%s: %v", at, err)
		return UUID{}, false
	}
	return u, true
}

// base64 checks optional base64 element text.
func (v *validator) base64(at string, p *string) {
	if p == nil || *p == "" {
		return
	}
	if _, err := decodeBase64(*p); err != nil {
		v.add("%s: %v", at, err)
	}
}

// bounds checks an optional min/max pair of non-negative numbers.
func (v *validator) bounds(at, name, lo, hi string) {
	a, okA := v.number(at+"@min"+name, lo)
	b, okB := v.number(at+"@max"+name, hi)
	if okA && okB && a > b {
		v.add("%s: min%s %s is above max%s %s", at, name, lo, name, hi)
	}
}

// number checks an optional non-negative decimal attribute; ok is false
// when it is absent or invalid.
func (v *validator) number(at, s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		v.add("%s %q is not a non-negative number", at, clip(s))
		return 0, false
	}
	return f, true
}

// boolean checks an optional xs:boolean attribute.
func (v *validator) boolean(at, s string) {
	switch s {
	case "", "true", "false", "1", "0":
		return
	}
	v.add("%s %q is not a boolean", at, clip(s))
}

// parseDateTime parses xs:dateTime: RFC 3339, or without a zone (UTC).
func parseDateTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.Parse("2006-01-02T15:04:05.999999999", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an xs:dateTime", clip(s))
	}
	return t, nil
}

func trackTypeList() string {
	return strings.Join(trackTypeNames(), ", ")
}
