package main

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"onair/internal/edge/edgetest"
)

var vmRSSCases = []struct {
	name    string
	in      string
	want    int64
	wantErr bool
}{
	{name: "proc status", in: "Name:\tonair\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nRssAnon:\t 8000 kB\n", want: 10240 << 10},
	{name: "zero", in: "VmRSS:\t0 kB\n", want: 0},
	{name: "no newline at end", in: "VmRSS: 4 kB", want: 4096},
	{name: "kernel thread has none", in: "Name:\tkthreadd\nState:\tS (sleeping)\n", wantErr: true},
	{name: "unit missing", in: "VmRSS:\t123\n", wantErr: true},
	{name: "other unit", in: "VmRSS:\t123 MB\n", wantErr: true},
	{name: "negative", in: "VmRSS:\t-5 kB\n", wantErr: true},
	{name: "not a number", in: "VmRSS:\tx kB\n", wantErr: true},
	{name: "absurd", in: "VmRSS:\t99999999999999999 kB\n", wantErr: true},
}

func TestParseVmRSS(t *testing.T) {
	for _, c := range vmRSSCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseVmRSS([]byte(c.in))
			if (err != nil) != c.wantErr || got != c.want {
				t.Errorf("parseVmRSS = %d, %v; want %d, error %v", got, err, c.want, c.wantErr)
			}
		})
	}
}

func FuzzParseVmRSS(f *testing.F) {
	for _, c := range vmRSSCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseVmRSS(b)
		if err == nil && (n < 0 || n%1024 != 0) {
			t.Errorf("parseVmRSS = %d: not a whole number of kB", n)
		}
	})
}

func TestReadVmRSSOfSelf(t *testing.T) {
	n, err := readVmRSS(os.Getpid())
	if err != nil || n < 1<<20 {
		t.Errorf("readVmRSS(self) = %d, %v; want at least 1 MiB", n, err)
	}
	if _, err := readVmRSS(1 << 30); err == nil {
		t.Error("readVmRSS of a pid that cannot exist succeeded")
	}
}

func TestLatencyHist(t *testing.T) {
	var h latencyHist
	if h.quantile(0.5) != -1 {
		t.Fatal("empty histogram has a median")
	}
	// 1 ms ... 100 ms, one each.
	for i := 1; i <= 100; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	cases := []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0.01, time.Millisecond}}
	for _, c := range cases {
		got := h.quantile(c.q)
		// The upper bound of the value's 5 % bucket: never below it, at
		// most 5 % above.
		if got < c.want || float64(got) > float64(c.want)*histGrowth*1.0001 {
			t.Errorf("quantile(%v) = %v, want %v to +5%%", c.q, got, c.want)
		}
	}
	if h.count() != 100 {
		t.Errorf("count = %d, want 100", h.count())
	}
	var edges latencyHist
	edges.add(0)
	edges.add(time.Hour)
	if lo, hi := edges.quantile(0.5), edges.quantile(1); lo != histBase || hi < time.Minute {
		t.Errorf("out-of-range latencies: %v and %v, want %v and over a minute", lo, hi, histBase)
	}
}

func TestBucketOfIsMonotonic(t *testing.T) {
	prev := 0
	for d := time.Duration(1); d < 100*time.Second; d = d*11/10 + 1 {
		b := bucketOf(d)
		if b < prev || b >= histBuckets || bucketUpper(b) < d && b < histBuckets-1 {
			t.Fatalf("bucketOf(%v) = %d (previous %d, upper %v)", d, b, prev, bucketUpper(b))
		}
		prev = b
	}
}

func TestRSSFit(t *testing.T) {
	steps := []*viewerStep{{viewers: 1000, rss: 60 << 20}, {viewers: 2000, rss: 100 << 20}, {viewers: 4000, rss: 180 << 20}}
	slope, intercept := rssFit(steps)
	if math.Abs(slope*1000-40<<20) > 1 || math.Abs(intercept-20<<20) > 1 {
		t.Errorf("rssFit = %.0f B/viewer + %.0f B, want 40 MiB per 1,000 + 20 MiB", slope, intercept)
	}
	if slope, intercept := rssFit(steps[:1]); slope != float64(60<<20)/1000 || intercept != 0 {
		t.Errorf("rssFit of one step = %v, %v; want a line through the origin", slope, intercept)
	}
	if slope, intercept := rssFit(nil); slope != 0 || intercept != 0 {
		t.Errorf("rssFit(nil) = %v, %v", slope, intercept)
	}
}

func TestViewerStep(t *testing.T) {
	mk := func(viewers, parts, errs int, hit time.Duration) *viewerStep {
		s := &viewerStep{viewers: viewers, window: 10 * time.Second, stats: &viewerStats{}}
		for range parts {
			s.stats.observe(edgetest.Fetch{Kind: edgetest.KindPart, Cache: "HIT", Latency: hit})
		}
		for range errs {
			s.stats.observe(edgetest.Fetch{Kind: edgetest.KindPart, Err: errors.New("HTTP 502")})
		}
		return s
	}
	cases := []struct {
		name                  string
		step                  *viewerStep
		wantGoal, wantKeepsUp bool
	}{
		{name: "keeps up, fast hits", step: mk(10, 200, 0, 5*time.Millisecond), wantGoal: true, wantKeepsUp: true},
		{name: "slow hits", step: mk(10, 200, 0, 80*time.Millisecond), wantGoal: false, wantKeepsUp: true},
		{name: "parts slower than a part", step: mk(10, 200, 0, 600*time.Millisecond), wantGoal: false, wantKeepsUp: false},
		{name: "an error", step: mk(10, 200, 1, 5*time.Millisecond), wantGoal: false, wantKeepsUp: false},
		{name: "viewers fall behind", step: mk(10, 100, 0, 5*time.Millisecond), wantGoal: false, wantKeepsUp: false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if goal, keeps := c.step.meetsGoal(), c.step.keepsUp(); goal != c.wantGoal || keeps != c.wantKeepsUp {
				t.Errorf("meetsGoal, keepsUp = %v, %v; want %v, %v (parts/s per viewer %.2f, p99 hit %v)", goal, keeps,
					c.wantGoal, c.wantKeepsUp, c.step.partsPerViewer(), c.step.stats.hitLatency.quantile(0.99))
			}
		})
	}
	s := mk(10, 200, 0, time.Millisecond)
	s.originReqs, s.rss = 3, 30<<20
	if got := s.offload(); math.Abs(got-15) > 1e-9 {
		t.Errorf("offload = %v, want 15 origin requests per 1,000", got)
	}
	sec := viewersSection([]string{"onair", "edge"}, "127.0.0.1:1", edgetest.Config{Channel: "bench", Renditions: edgetest.DefaultRenditions(),
		Segment: 2 * time.Second, Part: 500 * time.Millisecond, Window: time.Minute}, 10*time.Second, 20<<20, []*viewerStep{s})
	md := sec.markdown()
	if !strings.Contains(md, "| 10 |") || !strings.Contains(md, "one onair edge served 10 LL-HLS viewers") ||
		!strings.Contains(md, "up to 10 viewers (20 requests/s) kept up") {
		t.Errorf("section does not report the step:\n%s", md)
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		2 * time.Second: "2 s", 500 * time.Millisecond: "500 ms", time.Minute: "60 s", 1500 * time.Millisecond: "1.5 s",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%v) = %q, want %q", d, got, want)
		}
	}
}
