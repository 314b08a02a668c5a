package hls

import (
	"strconv"
	"strings"
)

// Multivariant is a multivariant (master) playlist (section 4.4.6).
type Multivariant struct {
	Version             int // EXT-X-VERSION
	IndependentSegments bool
	Renditions          []Rendition // EXT-X-MEDIA, in order
	Variants            []Variant   // EXT-X-STREAM-INF, in order
}

// Rendition is an EXT-X-MEDIA tag (section 4.4.6.1).
type Rendition struct {
	Type       string // AUDIO, VIDEO, SUBTITLES
	GroupID    string
	Name       string
	Language   string // optional
	Default    bool
	Autoselect bool
	Channels   string // optional, AUDIO only, e.g. "2"
	URI        string
}

// Variant is an EXT-X-STREAM-INF tag and its URI line (section 4.4.6.2).
type Variant struct {
	Bandwidth        int // peak bits per second, required
	AverageBandwidth int // 0 omits the attribute
	Codecs           []string
	Width, Height    int     // 0 omits RESOLUTION
	FrameRate        float64 // 0 omits FRAME-RATE; written with 3 decimals
	Audio            string  // audio GROUP-ID, "" omits
	URI              string
}

// Append writes the playlist to b and returns the extended buffer.
func (m *Multivariant) Append(b []byte) []byte {
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:"...)
	b = strconv.AppendInt(b, int64(m.Version), 10)
	b = append(b, '\n')
	if m.IndependentSegments {
		b = append(b, "#EXT-X-INDEPENDENT-SEGMENTS\n"...)
	}
	for _, r := range m.Renditions {
		b = append(b, "#EXT-X-MEDIA:TYPE="...)
		b = append(b, r.Type...)
		b = append(b, ",GROUP-ID="...)
		b = appendQuoted(b, r.GroupID)
		b = append(b, ",NAME="...)
		b = appendQuoted(b, r.Name)
		if r.Language != "" {
			b = append(b, ",LANGUAGE="...)
			b = appendQuoted(b, r.Language)
		}
		b = append(b, ",DEFAULT="...)
		b = appendYesNo(b, r.Default)
		b = append(b, ",AUTOSELECT="...)
		b = appendYesNo(b, r.Autoselect)
		if r.Channels != "" {
			b = append(b, ",CHANNELS="...)
			b = appendQuoted(b, r.Channels)
		}
		if r.URI != "" {
			b = append(b, ",URI="...)
			b = appendQuoted(b, r.URI)
		}
		b = append(b, '\n')
	}
	for _, v := range m.Variants {
		b = append(b, "#EXT-X-STREAM-INF:BANDWIDTH="...)
		b = strconv.AppendInt(b, int64(v.Bandwidth), 10)
		if v.AverageBandwidth > 0 {
			b = append(b, ",AVERAGE-BANDWIDTH="...)
			b = strconv.AppendInt(b, int64(v.AverageBandwidth), 10)
		}
		b = append(b, ",CODECS="...)
		b = appendQuoted(b, strings.Join(v.Codecs, ","))
		if v.Width > 0 && v.Height > 0 {
			b = append(b, ",RESOLUTION="...)
			b = strconv.AppendInt(b, int64(v.Width), 10)
			b = append(b, 'x')
			b = strconv.AppendInt(b, int64(v.Height), 10)
		}
		if v.FrameRate > 0 {
			b = append(b, ",FRAME-RATE="...)
			b = strconv.AppendFloat(b, v.FrameRate, 'f', 3, 64)
		}
		if v.Audio != "" {
			b = append(b, ",AUDIO="...)
			b = appendQuoted(b, v.Audio)
		}
		b = append(b, '\n')
		b = appendLine(b, v.URI)
	}
	return b
}
