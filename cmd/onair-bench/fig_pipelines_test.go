package main

import (
	"slices"
	"testing"
)

func TestLargestHole(t *testing.T) {
	for _, c := range []struct {
		name string
		nums []int64
		want int64
	}{
		{"empty", nil, 0},
		{"one", []int64{7}, 0},
		{"consecutive", []int64{3, 4, 5, 6}, 0},
		{"one missing", []int64{3, 4, 6, 7}, 1},
		{"largest of two holes", []int64{1, 3, 7, 8}, 3},
		{"repeat", []int64{4, 4, 5}, 1},
		{"backwards", []int64{5, 4}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := largestHole(c.nums); got != c.want {
				t.Errorf("largestHole(%v) = %d, want %d", c.nums, got, c.want)
			}
		})
	}
}

func TestSegmentNumbersAndTags(t *testing.T) {
	const playlist = `#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-MAP:URI="init.mp4"
#EXTINF:2.000,
4.m4s
#EXT-X-DISCONTINUITY
#EXTINF:2.000,
5.m4s
#EXT-X-PART:DURATION=0.500,URI="6.0.m4s",INDEPENDENT=YES
#EXT-X-GAP
#EXTINF:2.000,
../x/6.m4s
#EXTINF:2.000,
not-a-segment.ts
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="7.0.m4s"
`
	if got, want := segmentNumbers(parseMediaSegments(playlist)), []int64{4, 5, 6}; !slices.Equal(got, want) {
		t.Errorf("segmentNumbers = %v, want %v", got, want)
	}
	for _, c := range []struct {
		tag  string
		want bool
	}{
		{"#EXT-X-GAP", true},
		{"#EXT-X-DISCONTINUITY", true},
		{"#EXT-X-PART", true},
		{"#EXT-X-SKIP", false},
	} {
		if got := hasTag(playlist, c.tag); got != c.want {
			t.Errorf("hasTag(%s) = %v, want %v", c.tag, got, c.want)
		}
	}
	if hasTag("#EXTM3U\n#EXT-X-DISCONTINUITY-SEQUENCE:0\n", "#EXT-X-DISCONTINUITY") {
		t.Error("DISCONTINUITY-SEQUENCE taken for DISCONTINUITY")
	}
}

func TestPickRendition(t *testing.T) {
	for _, c := range []struct {
		name string
		uris []string
		want string
	}{
		{"360p30 preferred", []string{"audio/index.m3u8", "source/index.m3u8", "240p30/index.m3u8", "360p30/index.m3u8"}, "360p30"},
		{"first transcoded", []string{"audio/index.m3u8", "source/index.m3u8", "240p30/index.m3u8", "160p30/index.m3u8"}, "240p30"},
		{"passthrough only", []string{"audio/index.m3u8", "source/index.m3u8"}, ""},
		{"none", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := pickRendition(c.uris); got != c.want {
				t.Errorf("pickRendition = %q, want %q", got, c.want)
			}
		})
	}
}

func TestPipelinePhaseSpread(t *testing.T) {
	// Every kill must fall inside the 2 s segment after N, with room for
	// the check that N is still the newest.
	for i := 1; i <= pipelineRuns; i++ {
		if p := pipelinePhase(i); p <= 0 || p.Seconds() > 1.8 {
			t.Errorf("pipelinePhase(%d) = %v, want in (0, 1.8 s]", i, p)
		}
	}
}
