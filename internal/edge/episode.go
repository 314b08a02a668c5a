package edge

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// An episode is a run of segment numbers of one media playlist that the
// edge fills with slate. It opens when the circuit opens and grows with
// the wall clock (segment s exists once start + (s-first+1)·D has
// passed); it stops growing (frozen) once the upstream is back with a
// playlist that reaches into it, and it closes once the upstream's newest
// segment is past its last, so the live segments continue its numbering.
// Segments numbered within an episode are slate for good: an HLS segment
// number never changes its media (RFC 8216bis section 6.2.2).
type episode struct {
	first, last int64
	start       time.Time // wall time at which segment first begins
	frozen      bool
	closed      bool
}

// playlistState is the slate state of one media playlist path.
type playlistState struct {
	base     *mediaPlaylist // newest upstream playlist
	baseAt   time.Time      // when it was fetched
	episodes []episode      // oldest first; only the last may be open
	out      numbering      // what viewers were last given
}

// numbering remembers the discontinuity sequence of the last playlist
// served, so the next one stays consistent with it (RFC 8216bis section
// 6.2.2: a segment's discontinuity sequence number never changes).
type numbering struct {
	valid       bool
	first, last int64
	dseq        int64
	discs       []int64 // segment numbers after first that carry EXT-X-DISCONTINUITY
}

// next returns the discontinuity sequence for a playlist that starts at
// first and records it; discAt tells whether a segment number newer than
// the last playlist's carries a discontinuity.
func (n *numbering) next(first, last int64, discs []int64, discAt func(int64) bool) int64 {
	ds := n.dseq
	if n.valid && first > n.first {
		for _, d := range n.discs {
			if d <= first {
				ds++
			}
		}
		if first-n.last > maxNumberJump {
			ds++ // a jump this far is a new timeline
		} else {
			for msn := n.last + 1; msn <= first; msn++ {
				if discAt(msn) {
					ds++
				}
			}
		}
	}
	*n = numbering{valid: true, first: first, last: last, dseq: ds, discs: discs}
	return ds
}

// maxWindow bounds the segments of a rewritten playlist.
const maxWindow = 1000

// maxNumberJump bounds the segment numbers next walks through.
const maxNumberJump = 100000

// discAt reports whether segment msn starts with a discontinuity in what
// build writes.
func (st *playlistState) discAt(msn int64) bool {
	ep, prev := st.episodeAt(msn), st.episodeAt(msn-1)
	switch {
	case ep != nil:
		return msn == ep.first
	case prev != nil:
		return true
	}
	b := st.base
	if i := msn - b.seq; i >= 0 && i < int64(len(b.entries)) {
		return b.entries[i].disc
	}
	return false
}

// open returns the episode still growing or frozen, or nil.
func (st *playlistState) open() *episode {
	if n := len(st.episodes); n > 0 && !st.episodes[n-1].closed {
		return &st.episodes[n-1]
	}
	return nil
}

// episodeAt returns the episode that covers msn, or nil.
func (st *playlistState) episodeAt(msn int64) *episode {
	for i := range st.episodes {
		if ep := &st.episodes[i]; msn >= ep.first && msn <= ep.last {
			return ep
		}
	}
	return nil
}

// startEpisode opens an episode after the newest live segment, or makes
// a frozen one grow again. It keeps the numbering of what viewers saw
// before the first rewrite.
func (st *playlistState) startEpisode(now time.Time, segDur time.Duration) {
	if ep := st.open(); ep != nil {
		if ep.frozen {
			ep.frozen = false
			ep.start = now.Add(-time.Duration(ep.last-ep.first+1) * segDur)
		}
		return
	}
	b := st.base
	first := b.lastComplete() + 1
	start := st.baseAt
	if n := len(b.entries); n > 0 && !b.entries[n-1].pdt.IsZero() {
		// The nominal duration, not the last EXTINF: audio segments
		// differ from it by up to a frame, and every rendition's slate
		// must carry the same date for the same number (players align
		// renditions across a discontinuity by date).
		start = b.entries[n-1].pdt.Add(segDur)
	}
	if k := len(st.episodes); k > 0 {
		first = max(first, st.episodes[k-1].last+1)
	}
	if start.After(now) {
		start = now
	}
	if !st.out.valid {
		var discs []int64
		for i, e := range b.entries {
			if e.disc && i > 0 {
				discs = append(discs, e.msn)
			}
		}
		st.out = numbering{valid: true, first: b.seq, last: b.lastComplete(), dseq: b.dseq, discs: discs}
	}
	st.episodes = append(st.episodes, episode{first: first, last: first - 1, start: start})
}

// advance grows the open episode to now, and freezes or closes it
// against the newest upstream playlist when fresh is set (base came from
// the upstream after the episode began).
func (st *playlistState) advance(now time.Time, segDur time.Duration, fresh bool) {
	ep := st.open()
	if ep == nil {
		return
	}
	if !ep.frozen && segDur > 0 {
		if n := ep.first + int64(now.Sub(ep.start)/segDur) - 1; n > ep.last {
			ep.last = n
		}
	}
	if !fresh {
		return
	}
	live := st.base.lastComplete()
	if live >= ep.first {
		ep.frozen = true
	}
	if ep.frozen && live > ep.last {
		// The live window may start after the episode: slate fills the
		// numbers in between so the playlist has no hole.
		ep.last = max(ep.last, st.base.seq-1)
		ep.closed = true
	}
}

// build writes the playlist viewers get: the upstream's segments, slate
// for every number within an episode, a discontinuity at each transition,
// and numbering consistent with what was served before.
func (st *playlistState) build(segDur time.Duration) []byte {
	b := st.base
	hi := b.lastComplete()
	if ep := st.open(); ep != nil {
		hi = max(hi, ep.last)
	}
	// The window keeps the length viewers had: an upstream that has just
	// restarted lists few segments, the slate before them fills it.
	window := max(len(b.entries), 3)
	if st.out.valid {
		window = max(window, int(min(st.out.last-st.out.first+1, maxWindow)))
	}
	out := make([]entry, 0, window)
	for msn := hi; msn >= 0 && len(out) < window; msn-- {
		if ep := st.episodeAt(msn); ep != nil {
			out = append(out, slateEntry(msn, ep, segDur))
			continue
		}
		i := msn - b.seq
		if i < 0 || i >= int64(len(b.entries)) {
			break
		}
		e := b.entries[i]
		if prev := st.episodeAt(msn - 1); prev != nil {
			e.disc = true
		}
		out = append(out, e)
	}
	slices.Reverse(out)
	if len(out) == 0 {
		return b.marshal(nil, b.seq, st.out.dseq, true)
	}
	var discs []int64
	for _, e := range out[1:] {
		if e.disc {
			discs = append(discs, e.msn)
		}
	}
	first := out[0].msn
	ds := st.out.next(first, out[len(out)-1].msn, discs, st.discAt)
	withTail := !out[len(out)-1].slate && out[len(out)-1].msn == b.lastComplete()
	if !withTail {
		// Without the live tail, the parts of complete segments are
		// dropped too (they are optional, RFC 8216bis section 4.4.4.9):
		// a player that sees parts expects the segment after the last one
		// to be in progress with the same number (hls.js does), which a
		// slate segment is not.
		for i := range out {
			out[i].tags = slices.DeleteFunc(slices.Clone(out[i].tags), func(l string) bool {
				return strings.HasPrefix(l, "#EXT-X-PART:")
			})
		}
	}
	return b.marshal(out, first, ds, withTail)
}

// slateEntry is segment msn of episode ep.
func slateEntry(msn int64, ep *episode, segDur time.Duration) entry {
	e := entry{
		msn: msn, disc: msn == ep.first, mapURI: slateInitName, dur: segDur, slate: true,
		uri: fmt.Sprintf("%s%d%s", slatePrefix, msn, slateSegmentExt),
	}
	if !ep.start.IsZero() {
		at := ep.start.Add(time.Duration(msn-ep.first) * segDur)
		e.tags = append(e.tags, "#EXT-X-PROGRAM-DATE-TIME:"+at.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	}
	e.tags = append(e.tags, fmt.Sprintf("#EXTINF:%.3f,", segDur.Seconds()))
	return e
}

// availableAt is when segment msn of the open episode exists; zero when
// there is no growing episode.
func (st *playlistState) availableAt(msn int64, segDur time.Duration) time.Time {
	ep := st.open()
	if ep == nil || ep.frozen {
		return time.Time{}
	}
	return ep.start.Add(time.Duration(msn-ep.first+1) * segDur)
}
