package edge

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// position is how far a media playlist reaches: the newest segment number
// and, within it, the newest part (math.MaxInt64 once the segment is
// complete), so positions order as the stream advances.
type position struct {
	segment, part int64
}

func (p position) after(q position) bool {
	return p.segment > q.segment || (p.segment == q.segment && p.part > q.part)
}

// String names the position for logs: "segment 12" once complete, else
// "segment 12 part 3".
func (p position) String() string {
	if p.part == math.MaxInt64 {
		return "segment " + strconv.FormatInt(p.segment, 10)
	}
	return "segment " + strconv.FormatInt(p.segment, 10) + " part " + strconv.FormatInt(p.part, 10)
}

// targetDuration returns a media playlist's EXT-X-TARGETDURATION (RFC
// 8216bis section 4.4.3.1: a decimal-integer of seconds; a fraction is
// tolerated), 0 when absent, invalid or beyond a day.
func targetDuration(body []byte) time.Duration {
	const tag = "#EXT-X-TARGETDURATION:"
	for len(body) > 0 {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte{'\n'})
		s, ok := strings.CutPrefix(strings.TrimSpace(string(line)), tag)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || !(v > 0 && v <= 86400) {
			return 0
		}
		return time.Duration(v * float64(time.Second))
	}
	return 0
}

// playlistPosition scans an HLS media playlist (RFC 8216bis section 4.4)
// for its newest segment and part. Segment numbers come from onair's
// names ("{n}.m4s", "{n}.{p}.m4s") when they parse, else from
// EXT-X-MEDIA-SEQUENCE plus the segment count. ok is false for playlists
// with no segment and no part (a multivariant playlist, for instance).
func playlistPosition(body []byte) (pos position, ok bool) {
	var (
		seq, count       int64
		lastSeg          string
		lastPart         string
		segSeen, inEntry bool
	)
	for len(body) > 0 {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte{'\n'})
		s := strings.TrimSpace(string(line))
		switch {
		case strings.HasPrefix(s, "#EXT-X-MEDIA-SEQUENCE:"):
			seq, _ = strconv.ParseInt(strings.TrimPrefix(s, "#EXT-X-MEDIA-SEQUENCE:"), 10, 64)
		case strings.HasPrefix(s, "#EXTINF:"):
			inEntry = true
		case strings.HasPrefix(s, "#EXT-X-PART:"):
			if uri, ok := attribute(s, "URI"); ok {
				lastPart = uri
			}
		case s == "" || s[0] == '#':
		case inEntry:
			lastSeg, segSeen, inEntry = s, true, false
			count++
		}
	}
	if segSeen {
		pos = position{segment: seq + count - 1, part: math.MaxInt64}
		if n, p, ok := objectNumbers(lastSeg); ok && p < 0 {
			pos.segment = n
		}
		ok = true
	}
	if n, p, pok := objectNumbers(lastPart); pok && p >= 0 {
		if q := (position{segment: n, part: int64(p)}); !ok || q.after(pos) {
			pos = q
		}
		ok = true
	}
	return pos, ok
}

// attribute returns an attribute's value from a tag line, quoted or not
// (RFC 8216bis section 4.2), without the quotes; ok is false when the
// line does not have it.
func attribute(line, name string) (value string, ok bool) {
	_, attrs, _ := strings.Cut(line, ":")
	for attrs != "" {
		k, rest, found := strings.Cut(attrs, "=")
		if !found {
			return "", false
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return "", false
			}
			v, attrs = rest[1:1+end], strings.TrimPrefix(rest[2+end:], ",")
		} else {
			v, attrs, _ = strings.Cut(rest, ",")
		}
		if strings.TrimSpace(k) == name {
			return v, true
		}
	}
	return "", false
}

// objectNumbers parses the last path element of a URI in onair's naming:
// "{n}.m4s" (p = -1) or "{n}.{p}.m4s"; a query is ignored.
func objectNumbers(uri string) (n int64, p int, ok bool) {
	uri, _, _ = strings.Cut(uri, "?")
	name := uri[strings.LastIndexByte(uri, '/')+1:]
	stem, found := strings.CutSuffix(name, ".m4s")
	if !found {
		return 0, 0, false
	}
	seg, part, hasPart := strings.Cut(stem, ".")
	n, ok = parseUint(seg)
	if !ok {
		return 0, 0, false
	}
	if !hasPart {
		return n, -1, true
	}
	pp, ok := parseUint(part)
	if !ok || pp > math.MaxInt32 {
		return 0, 0, false
	}
	return n, int(pp), true
}

// channelOf returns the channel of an onair media playlist target
// ("/live/{channel}/{rendition}/{name}.m3u8[?query]").
func channelOf(target string) (string, bool) {
	path, _, _ := strings.Cut(target, "?")
	rest, ok := strings.CutPrefix(path, "/live/")
	if !ok {
		return "", false
	}
	elems := strings.Split(rest, "/")
	if len(elems) != 3 || elems[0] == "" || elems[1] == "" || !strings.HasSuffix(elems[2], ".m3u8") {
		return "", false
	}
	return elems[0], true
}

// manifestAges tracks, per channel, the newest position seen in any of its
// media playlists and when it last moved.
type manifestAges struct {
	mu       sync.Mutex
	channels map[string]*channelAge
}

type channelAge struct {
	newest  position
	changed time.Time
	asked   time.Time     // when a fill of one of its media playlists last started
	target  time.Duration // EXT-X-TARGETDURATION of its newest playlist; 0: none seen
}

func newManifestAges() *manifestAges {
	return &manifestAges{channels: make(map[string]*channelAge)}
}

// observe records a media playlist fetched from upstream at now.
func (m *manifestAges) observe(target string, body []byte, now time.Time) {
	channel, ok := channelOf(target)
	if !ok {
		return
	}
	pos, ok := playlistPosition(body)
	if !ok {
		return
	}
	td := targetDuration(body)
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.channels[channel]
	switch {
	case c == nil:
		c = &channelAge{newest: pos, changed: now}
		m.channels[channel] = c
	case pos.after(c.newest):
		c.newest, c.changed = pos, now
	}
	if td > 0 {
		c.target = td
	}
}

// asked records that a fill of a media playlist target starts at now,
// whatever its outcome: the edge is looking at the channel.
func (m *manifestAges) asked(target string, now time.Time) {
	channel, ok := channelOf(target)
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.channels[channel]; c != nil {
		c.asked = now
	}
}

// channelAgeSnapshot is one channel's manifest age at a moment.
type channelAgeSnapshot struct {
	channel string
	age     time.Duration
	target  time.Duration
	asked   time.Duration // since a fill of its playlists last started
}

// snapshot returns every channel's manifest age at now.
func (m *manifestAges) snapshot(now time.Time) []channelAgeSnapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]channelAgeSnapshot, 0, len(m.channels))
	for name, c := range m.channels {
		out = append(out, channelAgeSnapshot{channel: name, age: max(now.Sub(c.changed), 0), target: c.target,
			asked: max(min(now.Sub(c.asked), now.Sub(c.changed)), 0)})
	}
	return out
}

// ageCollector computes onair_edge_manifest_age_seconds at scrape time.
type ageCollector struct {
	ages *manifestAges
	now  func() time.Time
	desc *prometheus.Desc
}

func (c *ageCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *ageCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	c.ages.mu.Lock()
	defer c.ages.mu.Unlock()
	for name, a := range c.ages.channels {
		m, err := prometheus.NewConstMetric(c.desc, prometheus.GaugeValue, max(now.Sub(a.changed).Seconds(), 0), name)
		if err != nil {
			m = prometheus.NewInvalidMetric(c.desc, err)
		}
		ch <- m
	}
}
