package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onair/internal/edge/edgetest"
)

// soakStats counts what simulated viewers saw. Safe for concurrent use.
type soakStats struct {
	viewers, lowLatency int
	elapsed             time.Duration

	requests atomic.Int64
	bytes    atomic.Int64
	byCache  sync.Map // X-Cache value -> *atomic.Int64

	mu     sync.Mutex
	errors int
	first  []string // the first few errors
}

func (s *soakStats) observe(f edgetest.Fetch) {
	s.requests.Add(1)
	s.bytes.Add(f.Bytes)
	c, _ := s.byCache.LoadOrStore(f.Cache, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
	if f.Err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errors++
	if len(s.first) < 10 {
		s.first = append(s.first, f.Err.Error())
	}
}

func (s *soakStats) cache(label string) int64 {
	if c, ok := s.byCache.Load(label); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

// playSoak runs n viewers of origin's channel for d, spread over edges:
// viewer i watches rendition (i/3) mod 3 through edge i mod len(edges),
// so every nine viewers cover every (edge, rendition) pair of three
// each; every fifth group of nine plays without low latency (plain
// reloads every 500 ms, segments). Each viewer has its own token.
func playSoak(t *testing.T, origin *edgetest.Origin, edges []string, n int, d time.Duration) *soakStats {
	t.Helper()
	renditions := origin.Config().Renditions
	stats := &soakStats{viewers: n}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		base := edges[i%len(edges)]
		ll := (i/9)%5 != 0
		if ll {
			stats.lowLatency++
		}
		v, err := edgetest.NewViewer(edgetest.ViewerConfig{
			Master:     base + origin.MasterPath(),
			Playlist:   base + origin.PlaylistPath(renditions[(i/3)%len(renditions)].Name),
			LowLatency: ll,
			Poll:       500 * time.Millisecond,
			Query:      fmt.Sprintf("token=viewer%d", i),
			Observe:    stats.observe,
		})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if err := v.Run(ctx); err != nil {
				t.Errorf("viewer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	stats.elapsed = time.Since(start)
	return stats
}

// originLoad is what one (rendition, kind) cost the origin.
type originLoad struct {
	targets, requests, worst int64 // distinct targets, requests, most requests for one target
}

// loadTable tallies the origin's requests by rendition ("" for the
// multivariant playlist) and kind. Missing entries read as zero.
type loadTable map[string]map[edgetest.Kind]*originLoad

func tallyOrigin(reqs []edgetest.Request) loadTable {
	lt := loadTable{}
	for _, r := range reqs {
		l := lt.at(r.Rendition, r.Kind)
		l.targets++
		l.requests += r.Count
		l.worst = max(l.worst, r.Count)
	}
	return lt
}

// at returns the entry for (rendition, kind), creating it.
func (lt loadTable) at(rendition string, k edgetest.Kind) *originLoad {
	byKind := lt[rendition]
	if byKind == nil {
		byKind = map[edgetest.Kind]*originLoad{}
		lt[rendition] = byKind
	}
	if byKind[k] == nil {
		byKind[k] = &originLoad{}
	}
	return byKind[k]
}

// soakReport renders the figures of a soak for the test log.
func soakReport(t *testing.T, stats *soakStats, origin *edgetest.Origin, lt loadTable, tiers map[string]string) string {
	var b strings.Builder
	secs := stats.elapsed.Seconds()
	fmt.Fprintf(&b, "%d viewers (%d low-latency) for %v: %d requests (%.0f/s), %.1f MB, %d errors\n",
		stats.viewers, stats.lowLatency, stats.elapsed.Round(time.Millisecond), stats.requests.Load(),
		float64(stats.requests.Load())/secs, float64(stats.bytes.Load())/1e6, stats.errors)
	fmt.Fprintf(&b, "viewer X-Cache: HIT %d, COLLAPSED %d, MISS %d, STALE %d\n",
		stats.cache("HIT"), stats.cache("COLLAPSED"), stats.cache("MISS"), stats.cache("STALE"))
	fmt.Fprintf(&b, "origin: %d requests, %.2f per 1,000 viewer requests\n",
		origin.Total(), 1000*float64(origin.Total())/float64(max(stats.requests.Load(), 1)))
	fmt.Fprintf(&b, "%-9s %-9s %8s %9s %10s %10s\n", "rendition", "kind", "targets", "requests", "max/target", "requests/s")
	names := []string{""}
	for _, r := range origin.Config().Renditions {
		names = append(names, r.Name)
	}
	for _, r := range names {
		for _, k := range []edgetest.Kind{edgetest.KindMaster, edgetest.KindPlaylist, edgetest.KindBlocking,
			edgetest.KindInit, edgetest.KindSegment, edgetest.KindPart, edgetest.KindOther} {
			if l := lt[r][k]; l != nil && l.targets > 0 {
				fmt.Fprintf(&b, "%-9s %-9s %8d %9d %10d %10.2f\n", orDash(r), k, l.targets, l.requests, l.worst, float64(l.requests)/secs)
			}
		}
	}
	for _, name := range []string{"shield", "edge 1", "edge 2", "edge 3"} {
		base, ok := tiers[name]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "%s requests:", name)
		for _, label := range []string{"hit", "collapsed", "miss", "stale", "error"} {
			fmt.Fprintf(&b, " %s %.0f", label, counter(t, base, `onair_edge_requests_total\{cache="`+label+`"\}`))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// orDash returns s, or "-" when s is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
