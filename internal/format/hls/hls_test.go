package hls

import (
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

func TestAppendSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0.000"},
		{2 * time.Second, "2.000"},
		{500 * time.Millisecond, "0.500"},
		{2*time.Second + 33366666, "2.03337"},
		{time.Second / 90000, "0.00001"},
		{1234567 * time.Millisecond, "1234.567"},
		{-time.Second, "0.000"},
	} {
		if got := string(appendSeconds(nil, tc.d)); got != tc.want {
			t.Errorf("appendSeconds(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestQuotedDropsForbidden(t *testing.T) {
	got := string(appendQuoted(nil, "a\"b\r\nc"))
	if got != `"abc"` {
		t.Errorf("appendQuoted = %q", got)
	}
	if got := string(appendLine(nil, "x\ny")); got != "xy\n" {
		t.Errorf("appendLine = %q", got)
	}
}

func TestMultivariant(t *testing.T) {
	m := Multivariant{
		Version: 9, IndependentSegments: true,
		Renditions: []Rendition{{Type: "AUDIO", GroupID: "aud", Name: "audio", Default: true, Autoselect: true, Channels: "2", URI: "audio/index.m3u8"}},
		Variants: []Variant{{
			Bandwidth: 3128000, AverageBandwidth: 2628000, Codecs: []string{"avc1.64001f", "mp4a.40.2"},
			Width: 1280, Height: 720, FrameRate: 29.97, Audio: "aud", URI: "720p/index.m3u8",
		}},
	}
	want := `#EXTM3U
#EXT-X-VERSION:9
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/index.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=3128000,AVERAGE-BANDWIDTH=2628000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=29.970,AUDIO="aud"
720p/index.m3u8
`
	got := string(m.Append(nil))
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	var p playlist.Multivariant
	if err := p.Unmarshal([]byte(got)); err != nil {
		t.Fatalf("gohlslib cannot parse: %v", err)
	}
	if len(p.Variants) != 1 || p.Variants[0].Bandwidth != 3128000 || len(p.Renditions) != 1 {
		t.Errorf("parsed %+v", p)
	}
}

func TestMedia(t *testing.T) {
	wall := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	m := Media{
		Version: 9, TargetDuration: 2,
		ServerControl: &ServerControl{CanBlockReload: true, PartHoldBack: 1500 * time.Millisecond, HoldBack: 6 * time.Second},
		PartTarget:    500 * time.Millisecond, MediaSequence: 10, DiscontinuitySequence: 1,
		Segments: []Segment{
			{Map: "init.mp4", ProgramDateTime: wall, Duration: 2 * time.Second, URI: "10.m4s"},
			{ProgramDateTime: wall.Add(2 * time.Second), Gap: true, Duration: 2 * time.Second, URI: "11.m4s"},
			{Discontinuity: true, Map: "init-12.mp4", ProgramDateTime: wall.Add(4 * time.Second),
				Parts:    []Part{{Duration: time.Second, URI: "12.0.m4s", Independent: true}, {Duration: time.Second, URI: "12.1.m4s"}},
				Duration: 2 * time.Second, URI: "12.m4s"},
			{ProgramDateTime: wall.Add(6 * time.Second), Parts: []Part{{Duration: 500 * time.Millisecond, URI: "13.0.m4s", Independent: true}}},
		},
		PreloadHint:      "13.1.m4s",
		RenditionReports: []RenditionReport{{URI: "../360p/index.m3u8", LastMSN: 13, LastPart: 0}, {URI: "../x/index.m3u8", LastMSN: 12, LastPart: -1}},
	}
	want := `#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500,HOLD-BACK=6.000
#EXT-X-PART-INF:PART-TARGET=0.500
#EXT-X-MEDIA-SEQUENCE:10
#EXT-X-DISCONTINUITY-SEQUENCE:1
#EXT-X-MAP:URI="init.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:05.006Z
#EXTINF:2.000,
10.m4s
#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:07.006Z
#EXT-X-GAP
#EXTINF:2.000,
11.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init-12.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:09.006Z
#EXT-X-PART:DURATION=1.000,URI="12.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=1.000,URI="12.1.m4s"
#EXTINF:2.000,
12.m4s
#EXT-X-PROGRAM-DATE-TIME:2026-01-02T03:04:11.006Z
#EXT-X-PART:DURATION=0.500,URI="13.0.m4s",INDEPENDENT=YES
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="13.1.m4s"
#EXT-X-RENDITION-REPORT:URI="../360p/index.m3u8",LAST-MSN=13,LAST-PART=0
#EXT-X-RENDITION-REPORT:URI="../x/index.m3u8",LAST-MSN=12
`
	got := string(m.Append(nil))
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	var p playlist.Media
	if err := p.Unmarshal([]byte(got)); err != nil {
		t.Fatalf("gohlslib cannot parse: %v", err)
	}
	if len(p.Segments) != 3 || !p.Segments[1].Gap || !p.Segments[2].Discontinuity || len(p.Parts) != 1 ||
		p.PreloadHint == nil || len(p.RenditionReport) != 2 || p.MediaSequence != 10 {
		t.Errorf("parsed %+v", p)
	}
}

func BenchmarkMediaAppend(b *testing.B) {
	wall := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := Media{Version: 9, TargetDuration: 2, PartTarget: 500 * time.Millisecond}
	for i := range 30 {
		s := Segment{ProgramDateTime: wall.Add(time.Duration(i) * 2 * time.Second), Duration: 2 * time.Second, URI: "123456.m4s"}
		if i > 26 {
			s.Parts = []Part{{Duration: 500 * time.Millisecond, URI: "123456.0.m4s"}, {Duration: 500 * time.Millisecond, URI: "123456.1.m4s"}}
		}
		m.Segments = append(m.Segments, s)
	}
	buf := make([]byte, 0, 8192)
	b.ReportAllocs()
	for b.Loop() {
		buf = m.Append(buf[:0])
	}
}
