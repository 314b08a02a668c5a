package main

import (
	"math"
	"testing"
	"time"
)

var procStatCases = []struct {
	name    string
	in      string
	want    procStat
	wantErr bool
}{
	{
		name: "cat",
		in:   "12710 (cat) R 8178 8178 28765 0 -1 4194304 101 0 0 0 7 3 0 0 20 0 1 0 344398 3133440 390 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
		want: procStat{PID: 12710, Comm: "cat", State: 'R', PPID: 8178, UTime: 7, STime: 3, StartTime: 344398},
	},
	{
		name: "comm with spaces and parentheses",
		in:   "42 (a) b (c)) S 1 42 42 0 -1 0 0 0 0 0 1234 56 0 0 20 0 4 0 99 0 0",
		want: procStat{PID: 42, Comm: "a) b (c)", State: 'S', PPID: 1, UTime: 1234, STime: 56, StartTime: 99},
	},
	{name: "empty", in: "", wantErr: true},
	{name: "truncated", in: "1 (x) S 0 1 1 0", wantErr: true},
	{name: "bad utime", in: "1 (x) S 0 1 1 0 -1 0 0 0 0 0 zz 1 0 0 20 0 1 0 5 0 0", wantErr: true},
}

func TestParseProcStat(t *testing.T) {
	for _, c := range procStatCases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseProcStat([]byte(c.in))
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error %v", err, c.wantErr)
			}
			if !c.wantErr && got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			if !c.wantErr && got.CPU() != c.want.UTime+c.want.STime {
				t.Errorf("CPU() = %d", got.CPU())
			}
		})
	}
}

func FuzzParseProcStat(f *testing.F) {
	for _, c := range procStatCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseProcStat([]byte(s))
	})
}

// latencyMetrics is onair's exposition of the part latency histogram.
const latencyMetrics = `# HELP onair_packager_part_latency_seconds Wall time.
# TYPE onair_packager_part_latency_seconds histogram
onair_packager_part_latency_seconds_bucket{channel="ll",le="0.01"} 0
onair_packager_part_latency_seconds_bucket{channel="ll",le="0.025"} 40
onair_packager_part_latency_seconds_bucket{channel="ll",le="0.05"} 50
onair_packager_part_latency_seconds_bucket{channel="ll",le="0.1"} 50
onair_packager_part_latency_seconds_bucket{channel="ll",le="0.25"} 100
onair_packager_part_latency_seconds_bucket{channel="ll",le="+Inf"} 100
onair_packager_part_latency_seconds_sum{channel="ll"} 9.5
onair_packager_part_latency_seconds_count{channel="ll"} 100
onair_packager_part_latency_seconds_bucket{channel="std",le="0.01"} 7
onair_packager_part_latency_seconds_bucket{channel="std",le="+Inf"} 7
onair_packager_part_latency_seconds_sum{channel="std"} 0.01
onair_packager_part_latency_seconds_count{channel="std"} 7
onair_transcode_speed{channel="ll"} 0.99
`

func TestHistogramQuantile(t *testing.T) {
	h, err := parseHistogram([]byte(latencyMetrics), latencyMetric, `channel="ll"`)
	if err != nil {
		t.Fatal(err)
	}
	if h.Count != 100 || h.Sum != 9.5 || len(h.Buckets) != 6 {
		t.Fatalf("parsed %+v", h)
	}
	cases := []struct {
		q, want float64
	}{
		{0.2, 0.0175}, // 20 of 40 in (0.01, 0.025]
		{0.4, 0.025},  // the top of that bucket
		{0.5, 0.05},   // 50 reached in (0.025, 0.05]
		{0.75, 0.175}, // 25 of 50 in (0.1, 0.25]
		{0.99, 0.247}, // 49 of 50 in (0.1, 0.25]
		{1, 0.25},     // the highest finite bound
		{-1, math.NaN()},
	}
	for _, c := range cases {
		got := h.quantile(c.q)
		if math.IsNaN(c.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-c.want) > 1e-9) {
			t.Errorf("quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := h.mean(); math.Abs(got-0.095) > 1e-9 {
		t.Errorf("mean = %v", got)
	}
	if got := h.shareAtMost(0.1); got != 0.5 {
		t.Errorf("shareAtMost(0.1) = %v, want 0.5", got)
	}

	earlier, err := parseHistogram([]byte(latencyMetrics), latencyMetric, `channel="ll"`)
	if err != nil {
		t.Fatal(err)
	}
	d, err := h.sub(earlier)
	if err != nil || d.Count != 0 || !math.IsNaN(d.quantile(0.5)) {
		t.Errorf("delta of equal snapshots: %+v, %v", d, err)
	}
	if _, err := parseHistogram([]byte(latencyMetrics), latencyMetric, `channel="nope"`); err == nil {
		t.Error("a missing series parsed without error")
	}
	if v, ok := parseGauge([]byte(latencyMetrics), "onair_transcode_speed", `channel="ll"`); !ok || v != 0.99 {
		t.Errorf("parseGauge = %v, %v", v, ok)
	}
}

func FuzzParseHistogram(f *testing.F) {
	f.Add(latencyMetrics, `channel="ll"`)
	f.Add("x_bucket{le=\"1\"} 1\nx_count 1\n", "")
	f.Fuzz(func(t *testing.T, text, match string) {
		h, err := parseHistogram([]byte(text), latencyMetric, match)
		if err == nil {
			_ = h.quantile(0.5)
		}
	})
}

const wrkOutput = `Running 1s test @ http://127.0.0.1:23111/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     7.09ms    2.25ms  13.35ms   69.30%
    Req/Sec   420.40     24.02   474.00     70.00%
  Latency Distribution
     50%    7.14ms
     75%    8.63ms
     90%    9.99ms
     99%   11.71ms
  837 requests in 1.00s, 1.44MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 3
Requests/sec:    835.98
Transfer/sec:      1.44MB
`

func TestParseWrk(t *testing.T) {
	got, err := parseWrk([]byte(wrkOutput))
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{Requests: 837, RPS: 835.98, TransferBps: 1.44 * (1 << 20), P50: 7140 * time.Microsecond,
		P99: 11710 * time.Microsecond, Non2xx: 3, SocketErrs: 3}
	if got.Requests != want.Requests || got.RPS != want.RPS || math.Abs(got.TransferBps-want.TransferBps) > 1 ||
		got.P50 != want.P50 || got.P99 != want.P99 || got.Non2xx != want.Non2xx || got.SocketErrs != want.SocketErrs {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := parseWrk([]byte("Requests/sec: 1\n")); err == nil {
		t.Error("output without --latency parsed without error")
	}
	if d, err := wrkDuration("1.5", "s"); err != nil || d != 1500*time.Millisecond {
		t.Errorf("wrkDuration = %v, %v", d, err)
	}
}

func FuzzParseWrk(f *testing.F) {
	f.Add(wrkOutput)
	f.Add("Requests/sec: x\n")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseWrk([]byte(s))
	})
}

const llPlaylist = `#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:2
#EXT-X-MAP:URI="init.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T17:37:27.420Z
#EXT-X-PART:DURATION=0.200,URI="0.0.m4s",INDEPENDENT=YES
#EXTINF:2.000,
0.m4s
#EXTINF:2.000,
1.m4s
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T17:37:31.500Z
#EXT-X-PART:DURATION=0.200,URI="2.0.m4s",INDEPENDENT=YES
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="2.1.m4s"
`

func TestParsePlaylists(t *testing.T) {
	segs := parseMediaSegments(llPlaylist)
	if len(segs) != 2 || segs[0].URI != "0.m4s" || segs[1].URI != "1.m4s" {
		t.Fatalf("segments %+v", segs)
	}
	if want := time.Date(2026, 11, 24, 17, 37, 29, 420e6, time.UTC); !segs[1].PDT.Equal(want) {
		t.Errorf("second PDT %v, want %v (previous + EXTINF)", segs[1].PDT, want)
	}
	master := "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"audio\",URI=\"audio/index.m3u8\"\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=1\nsource/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\n480p30/index.m3u8\n"
	uris := parseMasterURIs(master)
	if len(uris) != 3 || uris[0] != "audio/index.m3u8" || uris[2] != "480p30/index.m3u8" {
		t.Errorf("master URIs %v", uris)
	}
}

func FuzzParseMediaSegments(f *testing.F) {
	f.Add(llPlaylist)
	f.Add("#EXTINF:x,\na\n")
	f.Fuzz(func(t *testing.T, s string) {
		for _, seg := range parseMediaSegments(s) {
			if seg.Duration < 0 {
				t.Fatalf("negative duration %v", seg.Duration)
			}
		}
		_ = parseMasterURIs(s)
	})
}
