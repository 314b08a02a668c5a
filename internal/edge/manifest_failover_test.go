package edge

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// livePipeline is a fake upstream whose channels each reach a segment the
// test sets. Media playlists (target duration 2 s, max-age=1) end with a
// comment naming the pipeline; segments name it in their body. A blocking
// reload for a segment it does not have yet is held until the request
// ends, like a frozen origin.
type livePipeline struct {
	*countingUpstream
	name string
	mu   sync.Mutex
	seg  map[string]int64
}

func newLivePipeline(t *testing.T, name string) *livePipeline {
	p := &livePipeline{name: name, seg: map[string]int64{}}
	p.countingUpstream = newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		elems := strings.Split(strings.TrimPrefix(r.URL.Path, "/live/"), "/")
		if len(elems) != 3 {
			http.NotFound(w, r)
			return
		}
		newest := p.newest(elems[0])
		if !strings.HasSuffix(elems[2], ".m3u8") {
			w.Header().Set("Cache-Control", "public, max-age=12")
			fmt.Fprintf(w, "%s %s", name, r.URL.Path)
			return
		}
		if msn := r.URL.Query().Get("_HLS_msn"); msn != "" {
			if n, _ := strconv.ParseInt(msn, 10, 64); n > newest {
				<-r.Context().Done()
				return
			}
		}
		w.Header().Set("Cache-Control", "public, max-age=1")
		fmt.Fprintf(w, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:%d\n", newest-2)
		for n := newest - 2; n <= newest; n++ {
			fmt.Fprintf(w, "#EXTINF:2.000,\n%d.m4s\n", n)
		}
		fmt.Fprintf(w, "# %s\n", name)
	})
	return p
}

func (p *livePipeline) newest(channel string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seg[channel]
}

func (p *livePipeline) set(channel string, seg int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seg[channel] = seg
}

// from returns which pipeline a playlist body came from.
func from(body string) string {
	i := strings.LastIndex(body, "# ")
	if i < 0 {
		return "none: " + body
	}
	return strings.TrimSpace(body[i+2:])
}

func TestStaleManifestFailoverAndFailBack(t *testing.T) {
	clock := newFakeClock()
	primary, secondary := newLivePipeline(t, "primary"), newLivePipeline(t, "secondary")
	e, logs := startEdgeLog(t, Config{
		Upstreams:     []string{primary.URL, secondary.URL},
		FailBackAfter: 40 * time.Millisecond, // probes every 10 ms
		Now:           clock.Now,
	})
	stale := func(channel string) float64 {
		return testutil.ToFloat64(e.metrics.manifestStale.WithLabelValues(channel, primary.URL))
	}
	playlist := func(channel string) string {
		t.Helper()
		r := get(t, e.url+"/live/"+channel+"/720p/index.m3u8")
		if r.status != 200 {
			t.Fatalf("%s playlist: %d", channel, r.status)
		}
		return from(r.body)
	}
	for _, p := range []*livePipeline{primary, secondary} {
		p.set("a", 10)
		p.set("b", 5)
	}
	if got := playlist("a"); got != "primary" {
		t.Fatalf("start: channel a from %s, want primary", got)
	}
	playlist("b")

	// The primary freezes channel a; the secondary goes on. Within the
	// limit (3 x 2 s) the primary still answers.
	secondary.set("a", 12)
	primary.set("b", 7)
	clock.Advance(4 * time.Second)
	if got := playlist("a"); got != "primary" {
		t.Errorf("4 s without progress: channel a from %s, want primary (limit 6 s)", got)
	}
	secondary.set("a", 13)
	primary.set("b", 9)
	clock.Advance(3 * time.Second)
	if got := playlist("a"); got != "secondary" {
		t.Fatalf("7 s without progress: channel a from %s, want secondary", got)
	}
	if v := testutil.ToFloat64(e.metrics.manifestFailover.WithLabelValues("a", primary.URL)); v != 1 || stale("a") != 1 {
		t.Errorf("failovers %v, stale gauge %v; want 1, 1", v, stale("a"))
	}
	lines := logs.matching("manifest stale")
	if len(lines) != 1 || !strings.Contains(lines[0], "channel=a") || !strings.Contains(lines[0], "unchanged for 7s (limit 6s)") ||
		!strings.Contains(lines[0], "has segment 13") {
		t.Errorf("failover log %q", lines)
	}

	// Channel a now goes to the secondary, its segments too; channel b
	// still to the primary.
	clock.Advance(2 * time.Second)
	if got := playlist("a"); got != "secondary" {
		t.Errorf("after the failover: channel a from %s, want secondary", got)
	}
	if r := get(t, e.url+"/live/a/720p/13.m4s"); r.body != "secondary /live/a/720p/13.m4s" {
		t.Errorf("segment of channel a: %q, want the secondary's", r.body)
	}
	if got := playlist("b"); got != "primary" || stale("b") != 0 {
		t.Errorf("channel b from %s (stale gauge %v), want primary: failover is per channel", got, stale("b"))
	}

	// The primary resumes at the live point: its probes fail back.
	primary.set("a", 13)
	eventually(t, 5*time.Second, "fail-back", func() bool { return stale("a") == 0 })
	clock.Advance(2 * time.Second)
	if got := playlist("a"); got != "primary" {
		t.Errorf("after fail-back: channel a from %s, want primary", got)
	}
	if lines := logs.matching("manifest fail-back"); len(lines) != 1 || !strings.Contains(lines[0], "moved from segment 10 to segment 13") {
		t.Errorf("fail-back log %q", lines)
	}
}

// TestStaleManifestWithBlockingReloads: viewers only send blocking
// reloads, which a frozen primary would hold; the edge compares the
// upstreams before sending one and the reload goes to the secondary.
func TestStaleManifestWithBlockingReloads(t *testing.T) {
	clock := newFakeClock()
	primary, secondary := newLivePipeline(t, "primary"), newLivePipeline(t, "secondary")
	e := startEdge(t, Config{
		Upstreams:          []string{primary.URL, secondary.URL},
		StaleManifestAfter: 3 * time.Second,
		BlockTimeout:       20 * time.Second,
		FailBackAfter:      time.Hour,
		Now:                clock.Now,
	}, nil)
	primary.set("a", 10)
	secondary.set("a", 10)
	get(t, e.url+"/live/a/720p/index.m3u8")
	secondary.set("a", 15)
	clock.Advance(4 * time.Second)
	start := time.Now()
	r := get(t, e.url+"/live/a/720p/index.m3u8?_HLS_msn=12")
	if r.status != 200 || from(r.body) != "secondary" || time.Since(start) > 5*time.Second {
		t.Errorf("blocking reload: %d from %s after %v, want the secondary at once", r.status, from(r.body), time.Since(start))
	}
	if n := primary.count("/live/a/720p/index.m3u8?_HLS_msn=12"); n != 0 {
		t.Errorf("the frozen primary was sent the blocking reload %d times", n)
	}
}

func TestSingleUpstreamNeverComparesManifests(t *testing.T) {
	clock := newFakeClock()
	only := newLivePipeline(t, "only")
	e := startEdge(t, Config{Upstreams: []string{only.URL}, Now: clock.Now}, nil)
	only.set("a", 10)
	for range 3 {
		if r := get(t, e.url+"/live/a/720p/index.m3u8"); from(r.body) != "only" {
			t.Fatalf("body %q", r.body)
		}
		clock.Advance(10 * time.Second)
	}
	if n := only.total.Load(); n != 3 {
		t.Errorf("upstream asked %d times, want 3", n)
	}
}

var targetDurationCases = []struct {
	body string
	want time.Duration
}{
	{"#EXTM3U\n#EXT-X-TARGETDURATION:2\n", 2 * time.Second},
	{"#EXTM3U\r\n#EXT-X-TARGETDURATION:6\r\n#EXTINF:6,\r\n", 6 * time.Second},
	{"#EXT-X-TARGETDURATION: 4 \n", 4 * time.Second},
	{"#EXT-X-TARGETDURATION:1.5\n", 1500 * time.Millisecond},
	{"#EXTM3U\n#EXTINF:2,\n1.m4s\n", 0},
	{"#EXT-X-TARGETDURATION:x\n", 0},
	{"#EXT-X-TARGETDURATION:-2\n", 0},
	{"#EXT-X-TARGETDURATION:1e300\n", 0},
	{"#EXT-X-TARGETDURATION:NaN\n", 0},
	{"", 0},
}

func TestTargetDuration(t *testing.T) {
	for _, tc := range targetDurationCases {
		if got := targetDuration([]byte(tc.body)); got != tc.want {
			t.Errorf("targetDuration(%q) = %v, want %v", tc.body, got, tc.want)
		}
	}
}

func FuzzTargetDuration(f *testing.F) {
	for _, tc := range targetDurationCases {
		f.Add(tc.body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if d := targetDuration([]byte(body)); d < 0 || d > 24*time.Hour {
			t.Fatalf("targetDuration(%q) = %v", body, d)
		}
		liveChannel(body)
	})
}
