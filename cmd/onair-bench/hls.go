package main

import (
	"bufio"
	"strconv"
	"strings"
	"time"
)

// mediaSegment is one complete segment listed in a media playlist.
type mediaSegment struct {
	URI      string
	Duration float64   // EXTINF, seconds
	PDT      time.Time // EXT-X-PROGRAM-DATE-TIME in force (zero when none)
}

// parseMediaSegments returns the complete segments of an HLS media
// playlist (RFC 8216bis 4.4.4.1 EXTINF + URI), with their
// PROGRAM-DATE-TIME: the tag's value, or the previous segment's plus its
// duration. Parts (EXT-X-PART) and preload hints are not segments.
func parseMediaSegments(text string) []mediaSegment {
	var out []mediaSegment
	var pdt time.Time
	dur := -1.0
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:"):
			if t, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(line, "#EXT-X-PROGRAM-DATE-TIME:")); err == nil {
				pdt = t
			}
		case strings.HasPrefix(line, "#EXTINF:"):
			v, _, _ := strings.Cut(strings.TrimPrefix(line, "#EXTINF:"), ",")
			if d, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && d >= 0 {
				dur = d
			}
		case line[0] == '#':
		case dur >= 0:
			out = append(out, mediaSegment{URI: line, Duration: dur, PDT: pdt})
			if !pdt.IsZero() {
				pdt = pdt.Add(time.Duration(dur * float64(time.Second)))
			}
			dur = -1
		}
	}
	return out
}

// parseMasterURIs returns the media playlist URIs a multivariant playlist
// lists: variant URIs (the line after EXT-X-STREAM-INF) and URI attributes
// of EXT-X-MEDIA.
func parseMasterURIs(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "#EXT-X-MEDIA:"):
			if _, rest, ok := strings.Cut(line, `URI="`); ok {
				if uri, _, ok := strings.Cut(rest, `"`); ok {
					out = append(out, uri)
				}
			}
		case line[0] != '#':
			out = append(out, line)
		}
	}
	return out
}
