package signing

import "testing"

// matchCases feed TestMatchPattern and FuzzMatchPattern's seeds.
var matchCases = []struct {
	pattern, name string
	want          bool
}{
	{"/live/news/*", "/live/news/720p/5.m4s", true},
	{"/live/news/*", "/live/news/", true},
	{"/live/news/*", "/live/news", false},
	{"/live/news/*", "/live/newsroom/5.m4s", false},
	{"/live/news/*", "/live/sports/5.m4s", false},
	{"/live/news*", "/live/newsroom/5.m4s", true},
	{"/live/*/720p/*", "/live/news/720p/5.m4s", true},
	{"/live/*/720p/*", "/live/news/1080p/5.m4s", false},
	{"/live/*/720p/*", "/live/a/b/720p/5.m4s", true}, // '*' crosses '/'
	{"/live/news/*.m3u8", "/live/news/720p/index.m3u8", true},
	{"/live/news/*.m3u8", "/live/news/720p/5.m4s", false},
	{"/live/news/*.m3u8", "/live/news/a.m3u8.m4s", false},
	{"/live/news/*.m3u8", "/live/news/a.m3u8/b.m3u8", true},
	{"/live/news/master.m3u8", "/live/news/master.m3u8", true},
	{"/live/news/master.m3u8", "/live/news/master.m3u8x", false},
	{"/live/news/master.m3u8", "/live/news/master.m3u", false},
	{"/*", "/anything/at/all", true},
	{"*", "", true},
	{"**a", "bbba", true},
	{"*a*b", "xaxxb", true},
	{"*a*b", "xaxxbx", false},
	{"a*", "", false},
	{"", "", true},
	{"", "a", false},
}

func TestMatchPattern(t *testing.T) {
	for _, tc := range matchCases {
		if got := matchPattern(tc.pattern, tc.name); got != tc.want {
			t.Errorf("matchPattern(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

// cleanPathCases feed TestCleanPath and FuzzMatchPattern's seeds.
var cleanPathCases = []struct {
	escaped, want string
	ok            bool
}{
	{"/live/news/720p/5.m4s", "/live/news/720p/5.m4s", true},
	{"/live/news/", "/live/news/", true},
	{"/live/n%65ws/5.m4s", "/live/news/5.m4s", true},
	{"/live/news/a%20b.m4s", "/live/news/a b.m4s", true},
	{"/live/news/caf%C3%A9", "/live/news/café", true},
	{"/live/news/..x/5.m4s", "/live/news/..x/5.m4s", true},
	{"/", "/", true},
	{"", "", false},
	{"live/news", "", false},
	{"*", "", false},
	{"/live/news/../sports/5.m4s", "", false},
	{"/live/news/..", "", false},
	{"/live/news/./5.m4s", "", false},
	{"/live/news/%2e%2e/sports", "", false},
	{"/live/news/%2E./sports", "", false},
	{"/live/news/..;/sports", "", false},
	{"/live/news/.;x/5.m4s", "", false},
	{"/live/news%2fsports", "", false},
	{"/live/news%2Fsports", "", false},
	{"/live/news/..%5csports", "", false},
	{`/live/news/..\sports`, "", false},
	{"/live/news/%252e%252e/sports", "", false},
	{"/live/news/%zz", "", false},
	{"/live/news/%0a5.m4s", "", false},
	{"/live/news/\x7f", "", false},
	{"/live//news", "", false},
	{"//live/news", "", false},
}

func TestCleanPath(t *testing.T) {
	for _, tc := range cleanPathCases {
		got, ok := cleanPath(tc.escaped)
		if got != tc.want || ok != tc.ok {
			t.Errorf("cleanPath(%q) = %q, %v; want %q, %v", tc.escaped, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCleanPathDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := cleanPath("/live/news/720p/12.3.m4s"); !ok {
			t.Fatal("refused")
		}
	})
	if allocs != 0 {
		t.Errorf("cleanPath allocates %v times per call", allocs)
	}
}
