package edgetest

import (
	"strconv"
	"time"

	"onair/internal/format/hls"
)

// hlsVersion is onair's EXT-X-VERSION.
const hlsVersion = 9

// codecs is what every variant claims to carry.
var codecs = []string{"avc1.64001f", "mp4a.40.2"}

// multivariant builds the multivariant playlist: one variant per
// rendition, in configured order.
func (o *Origin) multivariant() []byte {
	m := &hls.Multivariant{Version: hlsVersion, IndependentSegments: true}
	for _, r := range o.cfg.Renditions {
		m.Variants = append(m.Variants, hls.Variant{Bandwidth: r.Bandwidth, Codecs: codecs, URI: r.Name + "/index.m3u8"})
	}
	return m.Append(make([]byte, 0, 512))
}

// mediaPlaylist builds rendition rend's LL-HLS media playlist at pos the
// way onair's origin does: the newest complete segments (listedSegments),
// parts for the segments ending within three target durations of the
// playlist's end and for the segment in progress, a preload hint for the
// next part and rendition reports for the others. pos must have a
// complete segment.
func (o *Origin) mediaPlaylist(rend int, pos position) []byte {
	k := o.tl.k
	target := targetDuration(o.cfg.Segment)
	last := pos.lastComplete(k)
	first := max(last-int64(listedSegments(o.cfg.Window, o.cfg.Segment))+1, 0)
	// The playlist ends at the newest part: parts are listed for the
	// segments that end after end - 3 target durations (RFC 8216bis
	// section 4.4.4.9), in channel time since segment 0.
	end := time.Duration(pos.n)*o.cfg.Segment + time.Duration(pos.parts)*o.cfg.Part
	partsFrom := end - 3*time.Duration(target)*time.Second
	m := &hls.Media{
		Version:        hlsVersion,
		TargetDuration: target,
		ServerControl: &hls.ServerControl{
			CanBlockReload: true,
			PartHoldBack:   3 * o.cfg.Part,
			HoldBack:       3 * time.Duration(target) * time.Second,
		},
		PartTarget:    o.cfg.Part,
		MediaSequence: first,
		Segments:      make([]hls.Segment, 0, last-first+2),
	}
	for n := first; n <= pos.n; n++ {
		s := hls.Segment{ProgramDateTime: o.tl.segmentStart(n).UTC()}
		if n == first {
			s.Map = "init.mp4"
		}
		parts := int(k)
		if n > last {
			parts = pos.parts // the segment in progress
		} else {
			s.Duration, s.URI = o.cfg.Segment, strconv.FormatInt(n, 10)+".m4s"
		}
		if n > last || time.Duration(n+1)*o.cfg.Segment > partsFrom {
			s.Parts = make([]hls.Part, parts)
			for p := range parts {
				s.Parts[p] = hls.Part{Duration: o.cfg.Part, URI: partName(n, p), Independent: p == 0}
			}
		}
		m.Segments = append(m.Segments, s)
	}
	if pos.complete(k) {
		m.PreloadHint = partName(pos.n+1, 0)
	} else {
		m.PreloadHint = partName(pos.n, pos.parts)
	}
	for i, r := range o.cfg.Renditions {
		if i != rend {
			m.RenditionReports = append(m.RenditionReports, hls.RenditionReport{
				URI: "../" + r.Name + "/index.m3u8", LastMSN: pos.n, LastPart: pos.parts - 1,
			})
		}
	}
	return m.Append(make([]byte, 0, 4096))
}

func partName(n int64, p int) string {
	return strconv.FormatInt(n, 10) + "." + strconv.Itoa(p) + ".m4s"
}
