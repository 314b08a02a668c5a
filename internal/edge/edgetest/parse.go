package edgetest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// ref names a part (p >= 0) or a whole segment (p = -1) of segment n.
type ref struct {
	n int64
	p int
}

// after reports whether r comes later in the stream than q (a segment
// counts as its last part: it ends after every part of it).
func (r ref) after(q ref) bool {
	if r.n != q.n {
		return r.n > q.n
	}
	rp, qp := r.p, q.p
	if rp < 0 {
		rp = 1 << 30
	}
	if qp < 0 {
		qp = 1 << 30
	}
	return rp > qp
}

// name is the object's file name in onair's naming.
func (r ref) name() string {
	if r.p < 0 {
		return strconv.FormatInt(r.n, 10) + ".m4s"
	}
	return partName(r.n, r.p)
}

// playlist is what a viewer reads from a media playlist. Slices are
// reused from one parse to the next.
type playlist struct {
	mapURI   []byte // the last EXT-X-MAP URI; nil if none
	segments []ref  // complete segments (no gaps), in playlist order
	parts    []ref  // parts, in playlist order
}

// newest returns the newest part listed; ok false when none is.
func (pl *playlist) newestPart() (ref, bool) {
	if len(pl.parts) == 0 {
		return ref{}, false
	}
	return pl.parts[len(pl.parts)-1], true
}

// next returns the blocking reload directive for the part after the
// newest one, the way hls.js computes it: the next segment's part 0 once
// the newest part's segment is listed complete.
func (pl *playlist) next() (ref, bool) {
	p, ok := pl.newestPart()
	if !ok {
		return ref{}, false
	}
	if n := len(pl.segments); n > 0 && pl.segments[n-1].n >= p.n {
		return ref{n: pl.segments[n-1].n + 1, p: 0}, true
	}
	return ref{n: p.n, p: p.p + 1}, true
}

var (
	tagMap  = []byte("#EXT-X-MAP:")
	tagPart = []byte("#EXT-X-PART:")
	tagInf  = []byte("#EXTINF:")
	tagGap  = []byte("#EXT-X-GAP")
	attrURI = []byte(`URI="`)
)

// errNotPlaylist reports a body that is not a media playlist.
var errNotPlaylist = errors.New("not an HLS playlist")

// parse reads an HLS media playlist (RFC 8216bis section 4) whose segment
// and part URIs use onair's names ("{n}.m4s", "{n}.{p}.m4s"). Gap
// segments are skipped; a segment or part URI in another form is an
// error.
func (pl *playlist) parse(b []byte) error {
	pl.mapURI, pl.segments, pl.parts = nil, pl.segments[:0], pl.parts[:0]
	if !bytes.HasPrefix(b, []byte("#EXTM3U")) {
		return errNotPlaylist
	}
	var inf, gap bool
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		line = bytes.TrimRight(line, "\r")
		switch {
		case len(line) == 0:
		case bytes.HasPrefix(line, tagPart):
			uri, ok := quotedURI(line)
			r, named := parseName(uri)
			if !ok || !named || r.p < 0 {
				return fmt.Errorf("part URI %q: want {n}.{p}.m4s", uri)
			}
			pl.parts = append(pl.parts, r)
		case bytes.HasPrefix(line, tagMap):
			uri, ok := quotedURI(line)
			if !ok {
				return errors.New("EXT-X-MAP without URI")
			}
			pl.mapURI = uri
		case bytes.HasPrefix(line, tagInf):
			inf = true
		case bytes.HasPrefix(line, tagGap):
			gap = true
		case line[0] == '#':
		case inf:
			r, ok := parseName(line)
			if !ok || r.p >= 0 {
				return fmt.Errorf("segment URI %q: want {n}.m4s", line)
			}
			if !gap {
				pl.segments = append(pl.segments, r)
			}
			inf, gap = false, false
		}
	}
	return nil
}

// quotedURI returns the value of the URI="..." attribute of a tag line.
func quotedURI(line []byte) ([]byte, bool) {
	i := bytes.Index(line, attrURI)
	if i < 0 {
		return nil, false
	}
	v := line[i+len(attrURI):]
	j := bytes.IndexByte(v, '"')
	if j < 0 {
		return nil, false
	}
	return v[:j], true
}

// parseName parses "{n}.m4s" (p = -1) or "{n}.{p}.m4s": plain decimals
// without sign or leading zeros, n below 10^15, p at most 1000 (as
// internal/live).
func parseName(b []byte) (ref, bool) {
	stem, ok := bytes.CutSuffix(b, []byte(".m4s"))
	if !ok {
		return ref{}, false
	}
	seg, part, hasPart := bytes.Cut(stem, []byte{'.'})
	n, ok := parseNum(seg, 15)
	if !ok {
		return ref{}, false
	}
	if !hasPart {
		return ref{n: n, p: -1}, true
	}
	p, ok := parseNum(part, 4)
	if !ok || p > 1000 {
		return ref{}, false
	}
	return ref{n: n, p: int(p)}, true
}

// parseNum parses at most digits decimal digits, no leading zero.
func parseNum(b []byte, digits int) (int64, bool) {
	if len(b) == 0 || len(b) > digits || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
