package edge

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// mediaPlaylist is an HLS media playlist (RFC 8216bis section 4.4) cut
// into what the slate rewrite needs: the playlist tags, one entry per
// complete segment with its own tags, and the tail after the last one
// (parts of the segment in progress, preload hints, rendition reports).
// Unlike a full model it keeps every tag it does not know verbatim, and
// an EXT-X-MAP per entry (onair changes init segments mid-playlist).
type mediaPlaylist struct {
	header   []string // playlist tags, without the two sequence tags
	target   time.Duration
	seq      int64 // EXT-X-MEDIA-SEQUENCE
	dseq     int64 // EXT-X-DISCONTINUITY-SEQUENCE
	entries  []entry
	tail     []string
	tailMap  string // EXT-X-MAP in effect after the last entry
	tailDisc bool   // a discontinuity before the segment in progress
	endList  bool
}

// entry is one complete media segment.
type entry struct {
	msn    int64
	disc   bool      // EXT-X-DISCONTINUITY before it
	mapURI string    // EXT-X-MAP URI in effect ("" when none)
	pdt    time.Time // EXT-X-PROGRAM-DATE-TIME, zero when absent
	dur    time.Duration
	tags   []string // its other tag lines, EXTINF included, in order
	uri    string
	slate  bool // written by the edge, not the upstream
}

// parseMediaPlaylist parses body; it refuses what the rewrite can not
// keep consistent (delta updates with EXT-X-SKIP, byte ranges).
func parseMediaPlaylist(body []byte) (*mediaPlaylist, error) {
	if !bytes.HasPrefix(body, []byte("#EXTM3U")) {
		return nil, fmt.Errorf("not a playlist")
	}
	p := &mediaPlaylist{}
	var (
		cur      entry
		inEntry  bool // tags of the next segment have started
		mapURI   string
		sawEntry bool
	)
	for len(body) > 0 {
		var raw []byte
		raw, body, _ = bytes.Cut(body, []byte{'\n'})
		line := strings.TrimSpace(string(raw))
		tag, value, _ := strings.Cut(line, ":")
		switch {
		case line == "":
		case tag == "#EXT-X-MEDIA-SEQUENCE":
			p.seq, _ = strconv.ParseInt(value, 10, 64)
		case tag == "#EXT-X-DISCONTINUITY-SEQUENCE":
			p.dseq, _ = strconv.ParseInt(value, 10, 64)
		case tag == "#EXT-X-TARGETDURATION":
			n, err := strconv.Atoi(value)
			if err != nil || n <= 0 || n > 3600 {
				return nil, fmt.Errorf("bad EXT-X-TARGETDURATION %q", value)
			}
			p.target = time.Duration(n) * time.Second
			p.header = append(p.header, line)
		case tag == "#EXT-X-SKIP", tag == "#EXT-X-BYTERANGE":
			return nil, fmt.Errorf("%s is not supported", tag)
		case tag == "#EXT-X-ENDLIST":
			p.endList = true
		case tag == "#EXT-X-MAP":
			uri, ok := attribute(line, "URI")
			if !ok {
				return nil, fmt.Errorf("EXT-X-MAP without URI")
			}
			if attr, _ := attribute(line, "BYTERANGE"); attr != "" {
				return nil, fmt.Errorf("EXT-X-MAP byte ranges are not supported")
			}
			mapURI, inEntry = uri, true
		case tag == "#EXT-X-DISCONTINUITY":
			cur.disc, inEntry = true, true
		case tag == "#EXT-X-PROGRAM-DATE-TIME":
			if t, err := time.Parse(time.RFC3339Nano, value); err == nil {
				cur.pdt = t
			}
			cur.tags, inEntry = append(cur.tags, line), true
		case tag == "#EXTINF":
			d, _, _ := strings.Cut(value, ",")
			f, err := strconv.ParseFloat(d, 64)
			if err != nil || f <= 0 || f > 3600 || math.IsNaN(f) {
				return nil, fmt.Errorf("bad EXTINF %q", value)
			}
			cur.dur = time.Duration(f * float64(time.Second))
			cur.tags, inEntry = append(cur.tags, line), true
		case tag == "#EXT-X-PRELOAD-HINT" || tag == "#EXT-X-RENDITION-REPORT":
			p.tail = append(p.tail, line)
		case line[0] == '#' && !inEntry && !sawEntry && !segmentTag(tag):
			p.header = append(p.header, line)
		case line[0] == '#':
			cur.tags, inEntry = append(cur.tags, line), true
		default: // a URI
			if cur.dur == 0 {
				return nil, fmt.Errorf("segment %q without EXTINF", line)
			}
			cur.uri, cur.mapURI = line, mapURI
			cur.msn = p.seq + int64(len(p.entries))
			p.entries = append(p.entries, cur)
			cur, inEntry, sawEntry = entry{}, false, true
		}
	}
	if p.target == 0 {
		return nil, fmt.Errorf("no EXT-X-TARGETDURATION")
	}
	// What is left is the segment in progress: its parts and tags.
	p.tail = append(cur.tags, p.tail...)
	p.tailMap, p.tailDisc = mapURI, cur.disc
	return p, nil
}

// segmentTag reports whether tag belongs to a media segment rather than
// the playlist.
func segmentTag(tag string) bool {
	switch tag {
	case "#EXT-X-PART", "#EXT-X-GAP", "#EXT-X-BITRATE", "#EXT-X-KEY", "#EXT-X-DATERANGE", "#EXT-X-CUE-OUT", "#EXT-X-CUE-IN":
		return true
	}
	return false
}

// lastComplete returns the newest complete segment number, or seq-1.
func (p *mediaPlaylist) lastComplete() int64 { return p.seq + int64(len(p.entries)) - 1 }

// marshal writes the playlist with entries, the given sequence numbers
// and, when withTail, the tail of the segment in progress.
func (p *mediaPlaylist) marshal(entries []entry, seq, dseq int64, withTail bool) []byte {
	var b bytes.Buffer
	b.Grow(64 * (len(p.header) + 4*len(entries) + len(p.tail) + 4))
	for _, l := range p.header {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "#EXT-X-MEDIA-SEQUENCE:%d\n#EXT-X-DISCONTINUITY-SEQUENCE:%d\n", seq, dseq)
	mapURI := ""
	for i, e := range entries {
		if e.disc && i > 0 {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		if e.mapURI != "" && (i == 0 || e.mapURI != mapURI) {
			fmt.Fprintf(&b, "#EXT-X-MAP:URI=%q\n", e.mapURI)
		}
		mapURI = e.mapURI
		for _, l := range e.tags {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		b.WriteString(e.uri)
		b.WriteByte('\n')
	}
	if withTail {
		if p.tailDisc && len(p.tail) > 0 {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		if p.tailMap != "" && p.tailMap != mapURI && len(p.tail) > 0 {
			fmt.Fprintf(&b, "#EXT-X-MAP:URI=%q\n", p.tailMap)
		}
		for _, l := range p.tail {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		if p.endList {
			b.WriteString("#EXT-X-ENDLIST\n")
		}
	}
	return b.Bytes()
}
