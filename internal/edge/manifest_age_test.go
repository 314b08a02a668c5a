package edge

import (
	"math"
	"testing"
)

var positionCases = []struct {
	name string
	body string
	pos  position
	ok   bool
}{
	{name: "multivariant", body: "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/index.m3u8\n"},
	{name: "empty"},
	{name: "onair segments", body: "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2.0,\n7.m4s\n#EXTINF:2.0,\n8.m4s\n",
		pos: position{8, math.MaxInt64}, ok: true},
	{name: "onair parts after segments", body: "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2.0,\n7.m4s\n" +
		"#EXT-X-PART:DURATION=0.5,URI=\"8.0.m4s\",INDEPENDENT=YES\n#EXT-X-PART:DURATION=0.5,URI=\"8.1.m4s\"\n" +
		"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"8.2.m4s\"\n", pos: position{8, 1}, ok: true},
	{name: "parts of a complete segment", body: "#EXT-X-PART:DURATION=0.5,URI=\"8.3.m4s\"\n#EXTINF:2.0,\n8.m4s\n",
		pos: position{8, math.MaxInt64}, ok: true},
	{name: "generic names", body: "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:100\r\n#EXTINF:6,\r\nseg-a.ts\r\n#EXTINF:6,\r\nseg-b.ts\r\n",
		pos: position{101, math.MaxInt64}, ok: true},
	{name: "gap segment counted", body: "#EXT-X-MEDIA-SEQUENCE:3\n#EXTINF:2,\n#EXT-X-GAP\n3.m4s\n", pos: position{3, math.MaxInt64}, ok: true},
	{name: "garbage", body: "#EXT-X-PART:URI=\"\n#EXTINF\nx\n"},
}

func TestPlaylistPosition(t *testing.T) {
	for _, tc := range positionCases {
		pos, ok := playlistPosition([]byte(tc.body))
		if ok != tc.ok || (ok && pos != tc.pos) {
			t.Errorf("%s: playlistPosition = %+v %v, want %+v %v", tc.name, pos, ok, tc.pos, tc.ok)
		}
	}
}

func FuzzPlaylistPosition(f *testing.F) {
	for _, tc := range positionCases {
		f.Add(tc.body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		playlistPosition([]byte(body))
		channelOf(body)
		objectNumbers(body)
	})
}

func TestChannelOf(t *testing.T) {
	cases := map[string]string{
		"/live/news/720p/index.m3u8":             "news",
		"/live/news/720p/index.m3u8?_HLS_msn=10": "news",
		"/live/news/master.m3u8":                 "",
		"/other/news/720p/index.m3u8":            "",
		"/live//720p/index.m3u8":                 "",
		"/live/news/720p/1.m4s":                  "",
	}
	for target, want := range cases {
		got, ok := channelOf(target)
		if got != want || ok != (want != "") {
			t.Errorf("channelOf(%q) = %q %v, want %q", target, got, ok, want)
		}
	}
}
