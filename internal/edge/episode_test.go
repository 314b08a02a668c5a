package edge

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The origin's golden playlists survive parse and marshal unchanged.
func TestMediaPlaylistRoundTrip(t *testing.T) {
	for _, name := range []string{"media_720p.m3u8", "media_gap_discontinuity.m3u8"} {
		want, err := os.ReadFile("../origin/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		p, err := parseMediaPlaylist(want)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := p.marshal(p.entries, p.seq, p.dseq, true); string(got) != string(want) {
			t.Errorf("%s: round trip differs:\n%s\nwant:\n%s", name, got, want)
		}
	}
}

func TestParseMediaPlaylistRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"not a playlist": "hello",
		"no target":      "#EXTM3U\n#EXTINF:2,\n1.m4s\n",
		"no extinf":      "#EXTM3U\n#EXT-X-TARGETDURATION:2\n1.m4s\n",
		"skip":           "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n#EXTINF:2,\n1.m4s\n",
		"bad extinf":     "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:NaN,\n1.m4s\n",
	} {
		if _, err := parseMediaPlaylist([]byte(body)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// livePlaylist is an onair-style playlist of segments first..last (2 s,
// PDT at t0 + 2 s per number) with a part of last+1 in progress.
func livePlaylist(t *testing.T, first, last int64, t0 time.Time) *mediaPlaylist {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:%d\n#EXT-X-DISCONTINUITY-SEQUENCE:0\n#EXT-X-MAP:URI=\"init.mp4\"\n", first)
	pdt := func(n int64) string {
		return t0.Add(time.Duration(n) * 2 * time.Second).UTC().Format("2006-01-02T15:04:05.000Z")
	}
	for n := first; n <= last; n++ {
		fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n#EXTINF:2.000,\n%d.m4s\n", pdt(n), n)
	}
	fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n#EXT-X-PART:DURATION=0.500,URI=\"%d.0.m4s\",INDEPENDENT=YES\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"%d.1.m4s\"\n", pdt(last+1), last+1, last+1)
	p, err := parseMediaPlaylist([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// served is one playlist as a player reads it: per segment number, its
// URI and discontinuity sequence number.
type served map[int64]struct {
	uri string
	dsn int64
}

func readServed(t *testing.T, body []byte) (served, int64, int64) {
	t.Helper()
	p, err := parseMediaPlaylist(body)
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	out := served{}
	dsn := p.dseq
	for i, e := range p.entries {
		if e.disc && i > 0 {
			dsn++
		}
		out[e.msn] = struct {
			uri string
			dsn int64
		}{e.uri, dsn}
	}
	return out, p.seq, p.lastComplete()
}

// An outage and a recovery as viewers see them: slate continues the
// numbering, a discontinuity marks each transition, live returns after
// the slate, and no segment ever changes its URI or discontinuity
// sequence number between playlists.
func TestEpisodeLifecycle(t *testing.T) {
	const d = 2 * time.Second
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	at := func(n int64) time.Time { return t0.Add(time.Duration(n) * d) } // when segment n begins
	st := &playlistState{base: livePlaylist(t, 100, 104, t0), baseAt: at(105).Add(300 * time.Millisecond)}
	history := map[int64]struct {
		uri string
		dsn int64
	}{}
	check := func(step string, body []byte, wantFirst, wantLast int64) served {
		t.Helper()
		got, first, last := readServed(t, body)
		if first != wantFirst || last != wantLast {
			t.Fatalf("%s: segments %d..%d, want %d..%d\n%s", step, first, last, wantFirst, wantLast, body)
		}
		for n, s := range got {
			if h, ok := history[n]; ok && h != s {
				t.Errorf("%s: segment %d is now %+v, was %+v", step, n, s, h)
			}
			history[n] = s
		}
		return got
	}
	check("before", st.base.marshal(st.base.entries, st.base.seq, st.base.dseq, true), 100, 104)

	// The circuit opens: slate segments appear as the clock passes them.
	now := at(105).Add(500 * time.Millisecond)
	st.startEpisode(now, d)
	st.advance(now, d, false)
	check("open, nothing due", st.build(d), 100, 104)
	now = at(106).Add(100 * time.Millisecond)
	st.advance(now, d, false)
	got := check("open, one slate", st.build(d), 101, 105)
	if !strings.HasPrefix(got[105].uri, slatePrefix) || got[105].dsn != 1 {
		t.Errorf("segment 105 = %+v, want slate with discontinuity sequence 1", got[105])
	}
	// Nobody asks for a while: the window jumps ahead, numbering holds.
	now = at(113).Add(100 * time.Millisecond)
	st.advance(now, d, false)
	got = check("open, later", st.build(d), 108, 112)
	if got[108].dsn != 1 {
		t.Errorf("segment 108 discontinuity sequence %d, want 1", got[108].dsn)
	}
	if blocked := st.availableAt(113, d); !blocked.Equal(at(114)) {
		t.Errorf("segment 113 due at %v, want %v", blocked, at(114))
	}

	// The origin is back but behind the slate: the slate stops growing
	// and the playlist waits for live to pass it.
	now = at(114).Add(200 * time.Millisecond)
	st.advance(now, d, false) // slate reaches 113
	st.base, st.baseAt = livePlaylist(t, 111, 112, t0), now
	st.advance(now, d, true)
	check("recovering", st.build(d), 109, 113)
	now = at(116).Add(200 * time.Millisecond)
	st.base = livePlaylist(t, 111, 115, t0)
	st.advance(now, d, true)
	got = check("recovered", st.build(d), 111, 115)
	if got[114].uri != "114.m4s" || got[114].dsn != 2 || got[113].dsn != 1 {
		t.Errorf("after recovery: 113 = %+v, 114 = %+v; want slate 113 (dsn 1), live 114 (dsn 2)", got[113], got[114])
	}
	body := string(st.build(d))
	if !strings.Contains(body, "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init.mp4\"\n") || !strings.Contains(body, "#EXT-X-PRELOAD-HINT") {
		t.Errorf("live after slate needs a discontinuity, its own map and the live tail:\n%s", body)
	}
	// Live moves on; once the slate leaves the window nothing changes but
	// the discontinuity sequence keeps counting the edge's transitions.
	st.base = livePlaylist(t, 120, 124, t0)
	st.advance(at(125), d, true)
	got = check("long after", st.build(d), 120, 124)
	if got[120].dsn != 2 {
		t.Errorf("segment 120 discontinuity sequence %d, want 2", got[120].dsn)
	}
	// A second outage starts after the newest live segment.
	st.startEpisode(at(125).Add(time.Second), d)
	if ep := st.open(); ep == nil || ep.first != 125 {
		t.Fatalf("second episode %+v, want one from 125", ep)
	}
}

func TestNumberingJump(t *testing.T) {
	n := numbering{valid: true, first: 0, last: 4, dseq: 3, discs: []int64{2}}
	if got := n.next(2, 6, nil, func(int64) bool { return false }); got != 4 {
		t.Errorf("dseq %d, want 4 (the discontinuity at 2)", got)
	}
	if got := n.next(10, 12, nil, func(m int64) bool { return m == 9 }); got != 5 {
		t.Errorf("dseq %d, want 5 (the discontinuity at 9)", got)
	}
	if got := n.next(10+2*maxNumberJump, 12+2*maxNumberJump, nil, func(int64) bool { return true }); got != 6 {
		t.Errorf("dseq %d after a huge jump, want 6", got)
	}
}

func FuzzParseMediaPlaylist(f *testing.F) {
	for _, name := range []string{"media_720p.m3u8", "media_gap_discontinuity.m3u8"} {
		if b, err := os.ReadFile("../origin/testdata/" + name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n" + strconv.Itoa(1) + ".m4s\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseMediaPlaylist(body)
		if err != nil {
			return
		}
		out := p.marshal(p.entries, p.seq, p.dseq, true)
		q, err := parseMediaPlaylist(out)
		if err != nil {
			t.Fatalf("marshal output does not parse: %v\n%s", err, out)
		}
		if len(q.entries) != len(p.entries) || q.seq != p.seq {
			t.Fatalf("round trip changed entries: %d/%d seq %d/%d", len(q.entries), len(p.entries), q.seq, p.seq)
		}
	})
}
