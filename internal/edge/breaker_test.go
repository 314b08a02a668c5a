package edge

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// liveOrigin is a fake onair origin for one channel "c" with a 320x180
// video rendition "v" and an audio rendition "a": 1 s segments numbered
// by the wall clock, five in the window. down makes every request fail
// like a dead origin (the connection is cut).
type liveOrigin struct {
	*countingUpstream
	down atomic.Bool
	t0   time.Time
}

const liveSegment = time.Second

func newLiveOrigin(t *testing.T) *liveOrigin {
	o := &liveOrigin{t0: time.Now().Truncate(time.Second).Add(-time.Hour)}
	o.countingUpstream = newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if o.down.Load() {
			panic(http.ErrAbortHandler)
		}
		w.Header().Set("Access-Control-Allow-Origin", "*")
		switch p := r.URL.Path; {
		case p == "/live/c/master.m3u8":
			w.Header().Set("Cache-Control", "max-age=1")
			fmt.Fprint(w, "#EXTM3U\n#EXT-X-VERSION:9\n"+
				`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="a/index.m3u8"`+"\n"+
				`#EXT-X-STREAM-INF:BANDWIDTH=500000,CODECS="avc1.4d401e,mp4a.40.2",RESOLUTION=320x180,FRAME-RATE=30.000,AUDIO="aud"`+"\n"+
				"v/index.m3u8\n")
		case strings.HasSuffix(p, "/index.m3u8"):
			w.Header().Set("Cache-Control", "max-age=1")
			w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
			last := int64(time.Since(o.t0)/liveSegment) - 1
			var b strings.Builder
			fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:%d\n#EXT-X-DISCONTINUITY-SEQUENCE:0\n#EXT-X-MAP:URI=\"init.mp4\"\n", last-4)
			for n := last - 4; n <= last; n++ {
				pdt := o.t0.Add(time.Duration(n) * liveSegment).UTC().Format("2006-01-02T15:04:05.000Z")
				fmt.Fprintf(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n#EXTINF:1.000,\n%d.m4s\n", pdt, n)
			}
			fmt.Fprint(w, b.String())
		default:
			w.Header().Set("Cache-Control", "max-age=3600")
			fmt.Fprint(w, "media "+p)
		}
	})
	return o
}

// The origin dies: the circuit opens, playlists continue with slate
// segments the edge makes itself, and once the origin is back the live
// segments follow the slate after a discontinuity.
func TestBreakerSlate(t *testing.T) {
	o := newLiveOrigin(t)
	e := startEdge(t, Config{
		Upstreams: []string{o.URL},
		Breaker:   BreakerConfig{MinRequests: 2, Window: 5 * time.Second, ProbeInterval: 100 * time.Millisecond},
	}, nil)
	for _, p := range []string{"/live/c/master.m3u8", "/live/c/v/index.m3u8", "/live/c/a/index.m3u8"} {
		if r := get(t, e.url+p); r.status != 200 {
			t.Fatalf("%s: %d", p, r.status)
		}
	}
	// The slate renders in the background once the renditions are known.
	for _, p := range []string{"/live/c/v/_slate-init.mp4", "/live/c/a/_slate-init.mp4"} {
		eventually(t, 20*time.Second, "slate "+p, func() bool { return get(t, e.url+p).cache() == "SLATE" })
	}

	o.down.Store(true)
	var body string
	eventually(t, 10*time.Second, "slate playlist", func() bool {
		time.Sleep(100 * time.Millisecond)
		r := get(t, e.url+"/live/c/v/index.m3u8")
		if r.status != 200 {
			t.Fatalf("playlist while the origin is down: %d", r.status)
		}
		body = r.body
		return r.cache() == "SLATE" && strings.Contains(body, slatePrefix)
	})
	if counterValue(e.metrics.breakerOpen) != 1 {
		t.Error("onair_edge_breaker_open is not 1")
	}
	if !strings.Contains(body, "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\""+slateInitName+"\"") {
		t.Errorf("no discontinuity before the slate:\n%s", body)
	}
	last := lastURI(body)
	seg := get(t, e.url+"/live/c/v/"+last)
	if seg.status != 200 || seg.header.Get("Content-Type") != "video/mp4" || len(seg.body) < 100 {
		t.Errorf("GET %s: %d %q, %d bytes", last, seg.status, seg.header.Get("Content-Type"), len(seg.body))
	}
	// Nothing is asked upstream while the circuit is open but the probes.
	if r := get(t, e.url+"/live/c/v/999999.m4s"); r.status != http.StatusServiceUnavailable {
		t.Errorf("uncached segment with the circuit open: %d, want 503", r.status)
	}
	// The slate advances with the clock.
	time.Sleep(1500 * time.Millisecond)
	if next := lastURI(get(t, e.url+"/live/c/v/index.m3u8").body); next == last {
		t.Errorf("slate playlist did not advance past %s", last)
	}

	o.down.Store(false)
	eventually(t, 10*time.Second, "live after the slate", func() bool {
		time.Sleep(100 * time.Millisecond)
		body = get(t, e.url+"/live/c/v/index.m3u8").body
		return strings.Contains(body, slatePrefix) && !strings.HasPrefix(lastURI(body), slatePrefix)
	})
	if !strings.Contains(body, "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init.mp4\"") {
		t.Errorf("no discontinuity from slate back to live:\n%s", body)
	}
	if counterValue(e.metrics.breakerOpen) != 0 {
		t.Error("circuit still open after recovery")
	}
	if got := get(t, e.url+"/live/c/v/"+lastURI(body)); got.body != "media /live/c/v/"+lastURI(body) {
		t.Errorf("live segment after recovery: %q", got.body)
	}
}

// An upstream that fails now and then, under the error rate, never opens
// the circuit.
func TestBreakerStaysClosedBelowRate(t *testing.T) {
	b := newBreaker(BreakerConfig{ErrorRate: 0.5, Window: time.Minute, MinRequests: 4}, time.Now, newTestMetrics(t))
	for i := range 40 {
		b.record(i%3 == 1, "")
	}
	if b.isOpen() {
		t.Fatal("opened at a 1/3 error rate with a 1/2 threshold")
	}
	for range 40 {
		b.record(true, "")
	}
	if !b.isOpen() {
		t.Fatal("did not open when every request failed")
	}
	b.close()
	if b.isOpen() {
		t.Fatal("close did not close")
	}
	disabled := newBreaker(BreakerConfig{Disabled: true, ErrorRate: 0.5, Window: time.Minute, MinRequests: 1}, time.Now, newTestMetrics(t))
	disabled.record(true, "")
	if disabled.isOpen() {
		t.Fatal("a disabled breaker opened")
	}
}

func newTestMetrics(t *testing.T) *metrics {
	m, err := newMetrics(nil, &Edge{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// lastURI returns the last URI line of a playlist.
func lastURI(body string) string {
	lines := strings.Split(strings.TrimSpace(body), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && l[0] != '#' {
			return l
		}
	}
	return ""
}
