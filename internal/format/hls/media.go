package hls

import (
	"strconv"
	"time"
)

// Media is a media playlist (section 4.4.3 to 4.4.5), including the
// Low-Latency HLS tags.
type Media struct {
	Version             int // EXT-X-VERSION
	IndependentSegments bool
	// TargetDuration is EXT-X-TARGETDURATION in whole seconds: every
	// EXTINF rounded to the nearest integer must not exceed it.
	TargetDuration int
	// ServerControl is EXT-X-SERVER-CONTROL; nil omits the tag.
	ServerControl *ServerControl
	// PartTarget is EXT-X-PART-INF:PART-TARGET; 0 omits the tag.
	PartTarget            time.Duration
	MediaSequence         int64 // EXT-X-MEDIA-SEQUENCE
	DiscontinuitySequence int64 // EXT-X-DISCONTINUITY-SEQUENCE
	// Segments in order. The last may have no URI: it is the segment in
	// progress, of which only the parts are written.
	Segments []Segment
	// PreloadHint is the URI of the next part (EXT-X-PRELOAD-HINT
	// TYPE=PART); "" omits the tag.
	PreloadHint      string
	RenditionReports []RenditionReport
	Endlist          bool
}

// ServerControl is the EXT-X-SERVER-CONTROL tag (section 4.4.3.8).
type ServerControl struct {
	CanBlockReload bool
	HoldBack       time.Duration // 0 omits; at least 3 target durations
	PartHoldBack   time.Duration // 0 omits; at least 2, should be 3 part targets
}

// Segment is one media segment entry with its preceding tags.
type Segment struct {
	Discontinuity bool // EXT-X-DISCONTINUITY before the segment
	// UnkeyMap writes EXT-X-KEY:METHOD=NONE before EXT-X-MAP, so that an
	// AES-128 key in force does not apply to a clear init (section 4.4.4.4).
	UnkeyMap bool
	Map      string // EXT-X-MAP URI written before the segment; "" omits
	// Key is an EXT-X-KEY tag written after EXT-X-MAP, or before it with
	// KeyBeforeMap (a protected init: a key applies to the maps after
	// it); nil writes none.
	Key          *Key
	KeyBeforeMap bool
	// ProgramDateTime is EXT-X-PROGRAM-DATE-TIME; the zero time omits it.
	ProgramDateTime time.Time
	Gap             bool // EXT-X-GAP: the segment is missing
	Parts           []Part
	Duration        time.Duration // EXTINF
	URI             string        // "" for the segment in progress
}

// Key is an EXT-X-KEY tag (section 4.4.4.4).
type Key struct {
	Method string // AES-128, SAMPLE-AES or SAMPLE-AES-CTR
	URI    string
	// KeyID is written as KEYID=0x... when set (32 hex digits).
	KeyID             string
	KeyFormat         string // "" omits (identity)
	KeyFormatVersions string // "" omits
}

func (k *Key) append(b []byte) []byte {
	b = append(b, "#EXT-X-KEY:METHOD="...)
	b = append(b, k.Method...)
	b = append(b, ",URI="...)
	b = appendQuoted(b, k.URI)
	if k.KeyID != "" {
		b = append(b, ",KEYID=0x"...)
		b = append(b, k.KeyID...)
	}
	if k.KeyFormat != "" {
		b = append(b, ",KEYFORMAT="...)
		b = appendQuoted(b, k.KeyFormat)
	}
	if k.KeyFormatVersions != "" {
		b = append(b, ",KEYFORMATVERSIONS="...)
		b = appendQuoted(b, k.KeyFormatVersions)
	}
	return append(b, '\n')
}

// Part is an EXT-X-PART tag (section 4.4.4.9).
type Part struct {
	Duration    time.Duration
	URI         string
	Independent bool
}

// RenditionReport is an EXT-X-RENDITION-REPORT tag (section 4.4.5.4).
type RenditionReport struct {
	URI      string
	LastMSN  int64
	LastPart int // -1 omits LAST-PART
}

// Append writes the playlist to b and returns the extended buffer.
func (m *Media) Append(b []byte) []byte {
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:"...)
	b = strconv.AppendInt(b, int64(m.Version), 10)
	b = append(b, '\n')
	if m.IndependentSegments {
		b = append(b, "#EXT-X-INDEPENDENT-SEGMENTS\n"...)
	}
	b = append(b, "#EXT-X-TARGETDURATION:"...)
	b = strconv.AppendInt(b, int64(m.TargetDuration), 10)
	b = append(b, '\n')
	if sc := m.ServerControl; sc != nil {
		b = append(b, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD="...)
		b = appendYesNo(b, sc.CanBlockReload)
		if sc.PartHoldBack > 0 {
			b = append(b, ",PART-HOLD-BACK="...)
			b = appendSeconds(b, sc.PartHoldBack)
		}
		if sc.HoldBack > 0 {
			b = append(b, ",HOLD-BACK="...)
			b = appendSeconds(b, sc.HoldBack)
		}
		b = append(b, '\n')
	}
	if m.PartTarget > 0 {
		b = append(b, "#EXT-X-PART-INF:PART-TARGET="...)
		b = appendSeconds(b, m.PartTarget)
		b = append(b, '\n')
	}
	b = append(b, "#EXT-X-MEDIA-SEQUENCE:"...)
	b = strconv.AppendInt(b, m.MediaSequence, 10)
	b = append(b, "\n#EXT-X-DISCONTINUITY-SEQUENCE:"...)
	b = strconv.AppendInt(b, m.DiscontinuitySequence, 10)
	b = append(b, '\n')
	for i := range m.Segments {
		b = m.Segments[i].append(b)
	}
	if m.PreloadHint != "" {
		b = append(b, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI="...)
		b = appendQuoted(b, m.PreloadHint)
		b = append(b, '\n')
	}
	for _, r := range m.RenditionReports {
		b = append(b, "#EXT-X-RENDITION-REPORT:URI="...)
		b = appendQuoted(b, r.URI)
		b = append(b, ",LAST-MSN="...)
		b = strconv.AppendInt(b, r.LastMSN, 10)
		if r.LastPart >= 0 {
			b = append(b, ",LAST-PART="...)
			b = strconv.AppendInt(b, int64(r.LastPart), 10)
		}
		b = append(b, '\n')
	}
	if m.Endlist {
		b = append(b, "#EXT-X-ENDLIST\n"...)
	}
	return b
}

func (s *Segment) append(b []byte) []byte {
	if s.Discontinuity {
		b = append(b, "#EXT-X-DISCONTINUITY\n"...)
	}
	if s.Key != nil && s.KeyBeforeMap {
		b = s.Key.append(b)
	}
	if s.Map != "" {
		if s.UnkeyMap {
			b = append(b, "#EXT-X-KEY:METHOD=NONE\n"...)
		}
		b = append(b, "#EXT-X-MAP:URI="...)
		b = appendQuoted(b, s.Map)
		b = append(b, '\n')
	}
	if s.Key != nil && !s.KeyBeforeMap {
		b = s.Key.append(b)
	}
	if !s.ProgramDateTime.IsZero() {
		b = append(b, "#EXT-X-PROGRAM-DATE-TIME:"...)
		b = appendDateTime(b, s.ProgramDateTime)
		b = append(b, '\n')
	}
	for _, p := range s.Parts {
		b = append(b, "#EXT-X-PART:DURATION="...)
		b = appendSeconds(b, p.Duration)
		b = append(b, ",URI="...)
		b = appendQuoted(b, p.URI)
		if p.Independent {
			b = append(b, ",INDEPENDENT=YES"...)
		}
		b = append(b, '\n')
	}
	if s.URI == "" {
		return b
	}
	if s.Gap {
		b = append(b, "#EXT-X-GAP\n"...)
	}
	b = append(b, "#EXTINF:"...)
	b = appendSeconds(b, s.Duration)
	b = append(b, ",\n"...)
	return appendLine(b, s.URI)
}
