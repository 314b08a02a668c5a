package e2e

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"onair/internal/edge/edgetest"
)

// TestShieldSoak runs 300 simulated viewers for 30 s against three
// `onair edge` processes whose upstream is one shield edge in front of a
// synthetic live LL-HLS origin (1 s segments of four 250 ms parts, three
// renditions). Most viewers play in low-latency mode (a blocking reload
// for the next part, then the part), the others reload the plain playlist
// every 500 ms and fetch segments; every viewer has its own token. The
// origin must see each segment, part, init segment and blocking reload
// once, and each playlist at most once per lifetime (max-age=1) plus the
// first fetch; no viewer may see an error.
func TestShieldSoak(t *testing.T) {
	const (
		viewers = 300
		soak    = 30 * time.Second
		ttl     = time.Second // the origin's playlist max-age
	)
	origin, err := edgetest.New(edgetest.Config{
		Channel: "soak",
		Renditions: []edgetest.Rendition{
			{Name: "720p", Bandwidth: 3_000_000, PartBytes: 6000},
			{Name: "360p", Bandwidth: 800_000, PartBytes: 3000},
			{Name: "160p", Bandwidth: 200_000, PartBytes: 1000},
		},
		Segment: time.Second,
		Part:    250 * time.Millisecond,
		Window:  6 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(origin.Handler())
	t.Cleanup(srv.Close)
	tiers := map[string]string{"shield": startEdge(t, srv.URL)}
	var edges []string
	for _, name := range []string{"edge 1", "edge 2", "edge 3"} {
		tiers[name] = startEdge(t, tiers["shield"])
		edges = append(edges, tiers[name])
	}

	stats := playSoak(t, origin, edges, viewers, soak)

	if stats.errors > 0 {
		t.Errorf("%d viewer requests failed; the first:\n  %s", stats.errors, strings.Join(stats.first, "\n  "))
	}
	reqs := origin.Requests()
	var repeated []string
	for _, r := range reqs {
		switch r.Kind {
		case edgetest.KindSegment, edgetest.KindPart, edgetest.KindInit, edgetest.KindBlocking:
			if r.Count != 1 {
				repeated = append(repeated, fmt.Sprintf("%s %d times", r.Target, r.Count))
			}
		case edgetest.KindOther:
			t.Errorf("origin was asked for %s %d times: no viewer asks for it", r.Target, r.Count)
		}
	}
	if len(repeated) > 0 {
		t.Errorf("origin answered %d objects or blocking reloads more than once (want once each), for example:\n  %s",
			len(repeated), strings.Join(repeated[:min(len(repeated), 10)], "\n  "))
	}
	lt := tallyOrigin(reqs)
	limit := int64(stats.elapsed/ttl) + 2 // one refresh per lifetime, the first fetch, one of slack
	if l := lt.at("", edgetest.KindMaster); l.requests == 0 || l.requests > limit {
		t.Errorf("origin answered %d multivariant playlist requests in %v, want 1 to %d", l.requests, stats.elapsed, limit)
	}
	cfg := origin.Config()
	wantParts, wantSegments := int64(soak/cfg.Part*9/10), int64(soak/cfg.Segment*9/10)
	for _, r := range cfg.Renditions {
		if n := lt.at(r.Name, edgetest.KindPlaylist).requests; n == 0 || n > limit {
			t.Errorf("%s: origin answered %d plain playlist requests in %v, want 1 to %d (one per %v max-age)", r.Name, n, stats.elapsed, limit, ttl)
		}
		if n := lt.at(r.Name, edgetest.KindPart).targets; n < wantParts {
			t.Errorf("%s: viewers fetched %d distinct parts in %v, want at least %d: they fell behind", r.Name, n, soak, wantParts)
		}
		if n := lt.at(r.Name, edgetest.KindSegment).targets; n < wantSegments {
			t.Errorf("%s: viewers fetched %d distinct segments in %v, want at least %d", r.Name, n, soak, wantSegments)
		}
	}
	t.Log("shield soak, 3 edges -> 1 shield -> origin:\n" + soakReport(t, stats, origin, lt, tiers))
}
