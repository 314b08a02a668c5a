package waf

import (
	"errors"
	"strings"
	"testing"
)

// urlCases feed both TestCheckURL and FuzzCheckURL's seeds.
var urlCases = []struct {
	target string
	ok     bool
}{
	// onair's playback URLs (internal/origin, internal/live object names).
	{"/live/news/master.m3u8", true},
	{"/live/news/manifest.mpd", true},
	{"/live/news/720p30/index.m3u8", true},
	{"/live/news/720p30/init.mp4", true},
	{"/live/news/720p30/init-1842.mp4", true},
	{"/live/news/720p30/0.m4s", true},
	{"/live/news/720p30/1842.m4s", true},
	{"/live/news/720p30/1842.3.m4s", true},
	{"/live/news/720p30/1842.1000.m4s", true},
	{"/live/News_2/src-1/999999999999999999.m4s", true},
	{"/live/" + strings.Repeat("c", 64) + "/" + strings.Repeat("r", 64) + "/1.m4s", true},
	{"/live/news/720p30/index.m3u8?_HLS_msn=1842", true},
	{"/live/news/720p30/index.m3u8?_HLS_msn=1842&_HLS_part=3", true},
	{"/live/news/720p30/index.m3u8?_HLS_part=0&_HLS_msn=7&_HLS_skip=YES", true},
	{"/live/news/720p30/index.m3u8?_HLS_skip=v2", true},
	{"/live/news/720p30/1842.m4s?onair_token=eyJjaGFubmVsIjoibmV3cyJ9.3qR8x-Yk1_abc.k2026", true},
	{"/live/news/master.m3u8?onair_token=" + strings.Repeat("A", 2048), true},
	{"/live/news/720p30/1.m4s?", true},

	// Not playback paths.
	{"", false},
	{"/", false},
	{"/live/", false},
	{"/live/news", false},
	{"/live/news/", false},
	{"/api/v1/channels", false},
	{"/LIVE/news/master.m3u8", false},
	{"http://onair.example/live/news/master.m3u8", false},
	{"*", false},
	{"/live/news/720p30/foo.m4s", false},
	{"/live/news/720p30/01.m4s", false},
	{"/live/news/720p30/1.1001.m4s", false},
	{"/live/news/720p30/-1.m4s", false},
	{"/live/news/720p30/1.m4s.exe", false},
	{"/live/news/720p30/init-.mp4", false},
	{"/live/news/720p30/1234567890123456789.m4s", false},
	{"/live/news/720p30/index.m3u", false},
	{"/live/news/master.mpd", false},
	{"/live/news/720p30/manifest.mpd", false},
	{"/live/news/720p30/extra/1.m4s", false},
	{"/live/news.b/720p30/1.m4s", false},
	{"/live/news/720.p30/1.m4s", false},
	{"/live/" + strings.Repeat("c", 65) + "/720p30/1.m4s", false},
	{"/live/news/" + strings.Repeat("r", 65) + "/1.m4s", false},
	{"/live/news/720p30/" + strings.Repeat("1", 500) + ".m4s", false},

	// Traversal, encodings and odd characters.
	{"/live/../etc/passwd", false},
	{"/live/news/../../etc/passwd", false},
	{"/live/news/./720p30/1.m4s", false},
	{"/live/news/720p30/..", false},
	{"/live/news/%2e%2e/%2e%2e/etc/passwd", false},
	{"/live/news%2f720p30/1.m4s", false},
	{"/live/news%2F720p30%2F1.m4s", false},
	{"/live/news/720p30/%31.m4s", false},
	{"/live/news/720p30/1.m4s%00", false},
	{"/live/news/720p30/1.m4s\x00", false},
	{"/live/news/720p30\\..\\..\\1.m4s", false},
	{"/live//news/720p30/1.m4s", false},
	{"/live/news//720p30/1.m4s", false},
	{"/live/news/720p30/1.m4s/", false},
	{"/live/news/720p30/1.m4s;jsessionid=x", false},
	{"/live/news/720p30/1.m4s#x", false},
	{"/live/news/720p30/1 .m4s", false},
	{"/live/news/720p30/1.m4s\r\nX-Evil: 1", false},
	{"/live/new\xc3\xa9s/720p30/1.m4s", false},
	{"/live/news/720p30/1.m4s?" + strings.Repeat("a", 5000), false},

	// Queries.
	{"/live/news/720p30/1.m4s?id=1", false},
	{"/live/news/720p30/1.m4s?id=1'%20OR%20'1'='1", false},
	{"/live/news/720p30/index.m3u8?_HLS_msn=", false},
	{"/live/news/720p30/index.m3u8?_HLS_msn", false},
	{"/live/news/720p30/index.m3u8?_HLS_msn=-1", false},
	{"/live/news/720p30/index.m3u8?_HLS_msn=1e9", false},
	{"/live/news/720p30/index.m3u8?_HLS_msn=1234567890123456789", false},
	{"/live/news/720p30/index.m3u8?_HLS_msn=1&_HLS_msn=2", false},
	{"/live/news/720p30/index.m3u8?_HLS_part=1%00", false},
	{"/live/news/720p30/index.m3u8?_HLS_skip=yes", false},
	{"/live/news/720p30/index.m3u8?_HLS_skip=NO", false},
	{"/live/news/720p30/index.m3u8?_hls_msn=1", false},
	{"/live/news/720p30/index.m3u8?_HLS_msn=1&&_HLS_part=1", false},
	{"/live/news/master.m3u8?onair_token=", false},
	{"/live/news/master.m3u8?onair_token=a%2Fb", false},
	{"/live/news/master.m3u8?onair_token=a/b", false},
	{"/live/news/master.m3u8?onair_token=<script>", false},
	{"/live/news/master.m3u8?onair_token=a&onair_token=b", false},
	{"/live/news/master.m3u8?onair_token=" + strings.Repeat("A", 2049), false},
	{"/live/news/720p30/1.m4s?_=1700000000000", false}, // allowed only through CheapParams
}

func TestCheckURL(t *testing.T) {
	for _, tc := range urlCases {
		err := CheckURL(tc.target)
		if (err == nil) != tc.ok {
			t.Errorf("CheckURL(%q) = %v, want ok %v", tc.target, err, tc.ok)
		}
		if err != nil {
			if !errors.Is(err, ErrURLShape) {
				t.Errorf("CheckURL(%q) = %v, not wrapping ErrURLShape", tc.target, err)
			}
			if len(tc.target) > 8 && strings.Contains(err.Error(), tc.target) {
				t.Errorf("CheckURL(%q) = %v repeats the target", tc.target, err)
			}
		}
	}
}

func TestCheckURLExtraParams(t *testing.T) {
	extra := map[string]bool{"_": true, "cb": true}
	for _, tc := range []struct {
		target string
		ok     bool
	}{
		{"/live/news/720p30/1.m4s?_=1700000000000", true},
		{"/live/news/720p30/1.m4s?_", true},
		{"/live/news/720p30/1.m4s?cb=a.b-c_d~e&_=1", true},
		{"/live/news/720p30/index.m3u8?_HLS_msn=3&cb=x&onair_token=t.t.k", true},
		{"/live/news/720p30/1.m4s?cb=1&cb=2", false},
		{"/live/news/720p30/1.m4s?cb=a%20b", false},
		{"/live/news/720p30/1.m4s?cb=" + strings.Repeat("x", 257), false},
		{"/live/news/720p30/1.m4s?cb=<x>", false},
		{"/live/news/720p30/1.m4s?other=1", false},
	} {
		if err := checkURL(tc.target, extra); (err == nil) != tc.ok {
			t.Errorf("checkURL(%q, %v) = %v, want ok %v", tc.target, extra, err, tc.ok)
		}
	}
}

// FuzzCheckURL checks that an accepted target is a clean playback URL:
// nothing a path normalizer or decoder could turn into another path.
func FuzzCheckURL(f *testing.F) {
	for _, tc := range urlCases {
		f.Add(tc.target)
	}
	f.Fuzz(func(t *testing.T, target string) {
		err := CheckURL(target)
		if err != nil {
			if !errors.Is(err, ErrURLShape) {
				t.Fatalf("error %v does not wrap ErrURLShape", err)
			}
			return
		}
		path, query, _ := strings.Cut(target, "?")
		if !strings.HasPrefix(path, "/live/") || len(path) > maxPathLen || len(query) > maxQueryLen {
			t.Fatalf("accepted %q", target)
		}
		for _, bad := range []string{"%", "\\", "//", "/./", "/../", "\x00", "#", ";", " ", "\r", "\n", "<", "'", "\""} {
			if strings.Contains(target, bad) {
				t.Fatalf("accepted %q containing %q", target, bad)
			}
		}
		if strings.HasSuffix(path, "/") || strings.HasSuffix(path, "/..") || strings.HasSuffix(path, "/.") {
			t.Fatalf("accepted %q", target)
		}
		for i := 0; i < len(target); i++ {
			if target[i] < 0x21 || target[i] > 0x7e {
				t.Fatalf("accepted %q with byte %#x", target, target[i])
			}
		}
	})
}

// FuzzQueryParam checks that queryParam returns the raw value of the
// first onair_token parameter, whole, and only of that name.
func FuzzQueryParam(f *testing.F) {
	for _, q := range []string{"", "onair_token=a.b.c", "_HLS_msn=1&onair_token=x&onair_token=y", "onair_token", "a=1&&onair_token=%41"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		got := queryParam(q, tokenParam)
		want := "" // the value of the first "onair_token=" pair, even an empty one
		for _, pair := range strings.Split(q, "&") {
			if v, ok := strings.CutPrefix(pair, tokenParam+"="); ok {
				want = v
				break
			}
		}
		if got != want {
			t.Fatalf("queryParam(%q) = %q, want %q", q, got, want)
		}
	})
}
