package speke

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"onair/internal/cpix"
)

// Request is what an encryptor asks a key provider for.
type Request struct {
	// ContentID names the content (CPIX@contentId), e.g. the channel.
	ContentID string
	// KIDs are the key IDs to get keys for; the encryptor chooses them
	// (SPEKE: a KID stays the same for a content ID and key period).
	KIDs [][16]byte
	// Scheme is the Common Encryption scheme of every key: cpix.SchemeCBCS
	// or cpix.SchemeCENC (cbc1 and cens are allowed, without HLS).
	Scheme string
	// DRMSystems are the DRM system IDs to get signaling for, for every
	// KID (cpix.ClearKeySystemID, cpix.WidevineSystemID...). Which
	// elements are asked for depends on the system: see elementsFor.
	DRMSystems []string
	// TrackTypes, if not nil, gives the intendedTrackType of each KID
	// (parallel to KIDs): "VIDEO", "AUDIO", "SD"... (cpix.IsTrackType).
	// Nil: "ALL" for every key.
	TrackTypes []string
	// Periods, if not nil, gives the key period index of each KID
	// (parallel to KIDs) for key rotation: one ContentKeyPeriod per
	// distinct index ("keyPeriod_<index>"), referred to by the KID's usage
	// rule. Nil: no key periods.
	Periods []uint64
}

// elements are the DRMSystem children a request asks to be filled.
type elements struct {
	pssh, cpd, hls bool
}

// elementsFor returns what to ask of a DRM system: HLS key lines only for
// the HLS-only systems (FairPlay, Clear Key AES-128); PSSH and
// ContentProtectionData only for the W3C Common PSSH; PSSH,
// ContentProtectionData and HLS key lines for the others (W3C Clear Key,
// Widevine, PlayReady, any other ID). HLS signaling of Common Encryption
// systems is asked for only for cbcs and cenc, which HLS can carry.
func elementsFor(systemID, scheme string) elements {
	hls := scheme == cpix.SchemeCBCS || scheme == cpix.SchemeCENC
	switch systemID {
	case cpix.FairPlaySystemID:
		return elements{hls: hls}
	case cpix.ClearKeyAES128SystemID, cpix.HLSAES128SystemID:
		return elements{hls: true}
	case cpix.CommonSystemID:
		return elements{pssh: true, cpd: true}
	}
	return elements{pssh: true, cpd: true, hls: hls}
}

// isAudioTrackType reports whether a track type names audio tracks.
func isAudioTrackType(t string) bool {
	return t == "AUDIO" || strings.HasSuffix(t, "_AUDIO") || strings.HasPrefix(t, "MULTICHANNEL_AUDIO")
}

// check returns the request in canonical form (lowercase system IDs) or
// a message for each problem.
func (r Request) check() (Request, error) {
	var problems []error
	add := func(format string, a ...any) { problems = append(problems, fmt.Errorf(format, a...)) }
	if r.ContentID == "" {
		add("no ContentID")
	}
	if len(r.KIDs) == 0 {
		add("no KIDs")
	}
	seen := map[[16]byte]bool{}
	for _, k := range r.KIDs {
		if seen[k] {
			add("KID %s listed twice", cpix.UUID(k))
		}
		seen[k] = true
	}
	if !cpix.IsScheme(r.Scheme) {
		add("scheme %q: want cbcs, cenc, cbc1 or cens", r.Scheme)
	}
	systems := make([]string, len(r.DRMSystems))
	seenSys := map[cpix.UUID]bool{}
	for i, s := range r.DRMSystems {
		u, err := cpix.ParseUUID(s)
		if err != nil {
			add("DRM system: %v", err)
			continue
		}
		if seenSys[u] {
			add("DRM system %s listed twice", u)
		}
		seenSys[u] = true
		systems[i] = u.String()
	}
	r.DRMSystems = systems
	if r.TrackTypes != nil {
		if len(r.TrackTypes) != len(r.KIDs) {
			add("%d TrackTypes for %d KIDs", len(r.TrackTypes), len(r.KIDs))
		}
		for _, t := range r.TrackTypes {
			if !cpix.IsTrackType(t) {
				add("track type %q is not a CPIX intendedTrackType", t)
			}
		}
	}
	if r.Periods != nil && len(r.Periods) != len(r.KIDs) {
		add("%d Periods for %d KIDs", len(r.Periods), len(r.KIDs))
	}
	if len(problems) > 0 {
		return r, fmt.Errorf("%w: %w", ErrInvalidRequest, errors.Join(problems...))
	}
	return r, nil
}

// document builds the CPIX request document of a checked request.
func (r Request) document() *cpix.Document {
	d := &cpix.Document{ContentID: r.ContentID, Version: cpix.Version}
	empty := func() *string { s := ""; return &s }
	for _, k := range r.KIDs {
		d.ContentKeys = append(d.ContentKeys, cpix.ContentKey{KID: cpix.UUID(k).String(), CommonEncryptionScheme: r.Scheme})
	}
	for _, sys := range r.DRMSystems {
		want := elementsFor(sys, r.Scheme)
		for _, k := range r.KIDs {
			s := cpix.DRMSystem{KID: cpix.UUID(k).String(), SystemID: sys}
			if want.pssh {
				s.PSSH = empty()
			}
			if want.cpd {
				s.ContentProtectionData = empty()
			}
			if want.hls {
				s.HLSSignalingData = []cpix.HLSSignalingData{{Playlist: cpix.PlaylistMedia}, {Playlist: cpix.PlaylistMaster}}
			}
			d.DRMSystems = append(d.DRMSystems, s)
		}
	}
	periodID := func(i uint64) string { return "keyPeriod_" + strconv.FormatUint(i, 10) }
	if r.Periods != nil {
		seen := map[uint64]bool{}
		for _, i := range r.Periods {
			if !seen[i] {
				seen[i] = true
				d.ContentKeyPeriods = append(d.ContentKeyPeriods, cpix.ContentKeyPeriod{ID: periodID(i), Index: strconv.FormatUint(i, 10)})
			}
		}
	}
	for i, k := range r.KIDs {
		rule := cpix.ContentKeyUsageRule{KID: cpix.UUID(k).String(), IntendedTrackType: "ALL"}
		if r.TrackTypes != nil {
			rule.IntendedTrackType = r.TrackTypes[i]
			if isAudioTrackType(rule.IntendedTrackType) {
				rule.AudioFilters = []cpix.AudioFilter{{}}
			} else if rule.IntendedTrackType != "ALL" {
				rule.VideoFilters = []cpix.VideoFilter{{}}
			}
		}
		if r.Periods != nil {
			rule.KeyPeriodFilters = []cpix.KeyPeriodFilter{{PeriodID: periodID(r.Periods[i])}}
		}
		d.UsageRules = append(d.UsageRules, rule)
	}
	return d
}
