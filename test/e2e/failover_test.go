package e2e

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// An edge in front of an origin group: the primary origin dies while
// viewers poll playlists and fetch segments through the edge; every
// viewer request keeps getting 200 from the secondary.
func TestOriginGroupFailover(t *testing.T) {
	primary, secondary := startServer(t, ""), startServer(t, "")
	for _, s := range []*server{primary, secondary} {
		ch := s.createChannel(t, "grp", false)
		publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey), "320x240", 30, 0)
	}
	for _, s := range []*server{primary, secondary} {
		waitSegment(t, s.base, "grp", []string{"160p30"}, 1, 40*time.Second)
	}
	edge := startEdge(t, primary.base, secondary.base)

	var (
		stop     atomic.Bool
		requests atomic.Int64
		mu       sync.Mutex
		failures []string
		wg       sync.WaitGroup
	)
	fail := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 20 {
			failures = append(failures, s)
		}
	}
	for v := range 20 {
		wg.Go(func() {
			for !stop.Load() {
				for _, p := range []string{"/live/grp/master.m3u8", "/live/grp/160p30/index.m3u8"} {
					code, _, body := get(edge + p)
					requests.Add(1)
					if code != 200 {
						fail(fmt.Sprintf("viewer %d: %s: %d", v, p, code))
						continue
					}
					if segs := completeSegments(string(body)); strings.HasSuffix(p, "index.m3u8") && len(segs) > 0 {
						seg := fmt.Sprintf("/live/grp/160p30/%d.m4s", segs[len(segs)-1])
						if code, _, _ := get(edge + seg); code != 200 {
							fail(fmt.Sprintf("viewer %d: %s: %d", v, seg, code))
						}
						requests.Add(1)
					}
				}
				time.Sleep(500 * time.Millisecond)
			}
		})
	}
	time.Sleep(5 * time.Second)
	primary.kill()
	killed := requests.Load()
	time.Sleep(12 * time.Second)
	stop.Store(true)
	wg.Wait()
	t.Logf("%d viewer requests, %d after the primary was killed", requests.Load(), requests.Load()-killed)
	if requests.Load()-killed < 100 {
		t.Errorf("only %d requests after the kill: viewers were stuck", requests.Load()-killed)
	}
	if len(failures) > 0 {
		t.Errorf("viewers got errors: %v", failures)
	}
	_, _, metrics := get(edge + "/metrics")
	if want := `onair_edge_upstream_up{upstream="` + primary.base + `"} 0`; !strings.Contains(string(metrics), want) {
		t.Errorf("metrics lack %q: the dead primary is not marked down", want)
	}
}
