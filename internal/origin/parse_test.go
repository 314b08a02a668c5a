package origin

import (
	"net/http"
	"strings"
	"testing"
)

var pathCases = []struct {
	path      string
	status    int
	kind      kind
	channel   string
	rendition string
}{
	{"/live/ch1/master.m3u8", 0, kindMaster, "ch1", ""},
	{"/live/ch1/manifest.mpd", 0, kindMPD, "ch1", ""},
	{"/live/ch1/720p/index.m3u8", 0, kindMedia, "ch1", "720p"},
	{"/live/Ch_1-x/audio/init.mp4", 0, kindInit, "Ch_1-x", "audio"},
	{"/live/ch1/720p/init-42.mp4", 0, kindInit, "ch1", "720p"},
	{"/live/ch1/720p/0.m4s", 0, kindSegment, "ch1", "720p"},
	{"/live/ch1/720p/123.4.m4s", 0, kindPart, "ch1", "720p"},
	{"/time", 0, kindOther, "", ""},
	{"/live/ch1/720p/", http.StatusBadRequest, kindOther, "", ""},
	{"/live/ch1/../x", http.StatusBadRequest, kindOther, "", ""},
	{"/live/ch1/720p/%2e%2e", http.StatusBadRequest, kindOther, "", ""},
	{"/live/a.b/master.m3u8", http.StatusBadRequest, kindOther, "", ""},
	{"/live/ch1/7.2/index.m3u8", http.StatusBadRequest, kindOther, "", ""},
	{"/live//master.m3u8", http.StatusBadRequest, kindOther, "", ""},
	{"/live/ch1/720p/01.m4s", http.StatusNotFound, kindOther, "ch1", "720p"},
	{"/live/ch1/720p/1.01.m4s", http.StatusNotFound, kindOther, "ch1", "720p"},
	{"/live/ch1/720p/init-.mp4", http.StatusNotFound, kindOther, "ch1", "720p"},
	{"/live/ch1/a/b/c/d/e", http.StatusNotFound, kindOther, "", ""},
	{"/live/ch1/index.m3u8", http.StatusNotFound, kindOther, "ch1", ""},
	{"/livex/ch1/master.m3u8", http.StatusNotFound, kindOther, "", ""},
	{"/time/", http.StatusNotFound, kindOther, "", ""},
	{"/live/" + strings.Repeat("a", 600), http.StatusRequestURITooLong, kindOther, "", ""},
}

func TestParsePath(t *testing.T) {
	for _, tc := range pathCases {
		r, status := parsePath(tc.path)
		if status != tc.status || r.kind != tc.kind || r.channel != tc.channel || r.rendition != tc.rendition {
			t.Errorf("parsePath(%.60q) = %+v %d, want %s %q %q %d", tc.path, r, status, tc.kind, tc.channel, tc.rendition, tc.status)
		}
	}
	r, _ := parsePath("/live/ch1/720p/123.4.m4s")
	if r.object.Segment != 123 || r.object.Part != 4 {
		t.Errorf("object %+v", r.object)
	}
}

func FuzzParsePath(f *testing.F) {
	for _, tc := range pathCases {
		f.Add(tc.path)
	}
	f.Fuzz(func(t *testing.T, p string) {
		r, status := parsePath(p)
		if status != 0 {
			if status < 400 || status > 499 {
				t.Fatalf("status %d", status)
			}
			return
		}
		if r.time {
			return
		}
		// Anything routed has safe names that can form an object key.
		if !validName(r.channel) || strings.Contains(p, "..") || strings.Contains(p, "%") {
			t.Fatalf("routed %q to %+v", p, r)
		}
		if r.kind != kindMaster && r.kind != kindMPD && !validName(r.rendition) {
			t.Fatalf("routed %q with rendition %q", p, r.rendition)
		}
	})
}

var directiveCases = []struct {
	query  string
	status int
	want   directive
}{
	{"", 0, directive{part: -1}},
	{"_HLS_msn=5", 0, directive{block: true, msn: 5, part: -1}},
	{"_HLS_msn=5&_HLS_part=0", 0, directive{block: true, msn: 5, part: 0}},
	{"_HLS_part=2&_HLS_msn=10", 0, directive{block: true, msn: 10, part: 2}},
	{"_HLS_msn=5&_HLS_skip=YES&token=abc", 0, directive{block: true, msn: 5, part: -1}},
	{"token=abc", 0, directive{part: -1}},
	{"_HLS_part=1", 400, directive{}},
	{"_HLS_msn=", 400, directive{}},
	{"_HLS_msn=x", 400, directive{}},
	{"_HLS_msn=-1", 400, directive{}},
	{"_HLS_msn=+1", 400, directive{}},
	{"_HLS_msn=1.5", 400, directive{}},
	{"_HLS_msn=1&_HLS_msn=1", 400, directive{}},
	{"_HLS_msn=1&_HLS_part=1&_HLS_part=2", 400, directive{}},
	{"_HLS_msn=1&_HLS_part=1001", 400, directive{}},
	{"_HLS_msn=9999999999999999999", 400, directive{}},
	{"_HLS_msn=1;x", 400, directive{}},
	{"%zz", 400, directive{}},
}

func TestParseDirective(t *testing.T) {
	for _, tc := range directiveCases {
		d, status := parseDirective(tc.query)
		if status != tc.status || status == 0 && d != tc.want {
			t.Errorf("parseDirective(%q) = %+v %d, want %+v %d", tc.query, d, status, tc.want, tc.status)
		}
	}
}

func FuzzParseDirective(f *testing.F) {
	for _, tc := range directiveCases {
		f.Add(tc.query)
	}
	f.Fuzz(func(t *testing.T, q string) {
		d, status := parseDirective(q)
		if status != 0 && status != 400 {
			t.Fatalf("status %d", status)
		}
		if status == 0 && d.block && (d.msn < 0 || d.part < -1 || d.part > maxPartIndex) {
			t.Fatalf("out of range %+v", d)
		}
		if status == 0 && !d.block && d.part != -1 {
			t.Fatalf("part without msn %+v", d)
		}
	})
}
