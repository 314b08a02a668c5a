package edgetest

import (
	"slices"
	"testing"
)

var parseCases = []struct {
	name     string
	in       string
	wantErr  bool
	mapURI   string
	segments []ref
	parts    []ref
	next     ref // zero with !hasNext
	hasNext  bool
}{
	{
		name: "complete newest segment",
		in: "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:1.000,\n0.m4s\n" +
			"#EXT-X-PART:DURATION=0.500,URI=\"1.0.m4s\",INDEPENDENT=YES\n#EXT-X-PART:DURATION=0.500,URI=\"1.1.m4s\"\n#EXTINF:1.000,\n1.m4s\n" +
			"#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"2.0.m4s\"\n",
		mapURI: "init.mp4", segments: []ref{{0, -1}, {1, -1}}, parts: []ref{{1, 0}, {1, 1}},
		next: ref{2, 0}, hasNext: true,
	},
	{
		name: "segment in progress, CRLF",
		in: "#EXTM3U\r\n#EXT-X-MAP:URI=\"init-3.mp4\"\r\n#EXTINF:1.000,\r\n7.m4s\r\n" +
			"#EXT-X-PART:DURATION=0.5,URI=\"8.0.m4s\"\r\n",
		mapURI: "init-3.mp4", segments: []ref{{7, -1}}, parts: []ref{{8, 0}},
		next: ref{8, 1}, hasNext: true,
	},
	{
		name:     "gap segments are skipped",
		in:       "#EXTM3U\n#EXTINF:2,\n4.m4s\n#EXT-X-GAP\n#EXTINF:2,\n5.m4s\n#EXTINF:2,\n6.m4s\n",
		segments: []ref{{4, -1}, {6, -1}},
	},
	{name: "not a playlist", in: "<html>", wantErr: true},
	{name: "empty", in: "", wantErr: true},
	{name: "foreign segment name", in: "#EXTM3U\n#EXTINF:2,\nseg-4.ts\n", wantErr: true},
	{name: "part name given as segment", in: "#EXTM3U\n#EXTINF:2,\n4.1.m4s\n", wantErr: true},
	{name: "segment name given as part", in: "#EXTM3U\n#EXT-X-PART:DURATION=1,URI=\"4.m4s\"\n", wantErr: true},
	{name: "part without URI", in: "#EXTM3U\n#EXT-X-PART:DURATION=1\n", wantErr: true},
	{name: "map without URI", in: "#EXTM3U\n#EXT-X-MAP:BYTERANGE=\"1@0\"\n", wantErr: true},
	{name: "leading zero", in: "#EXTM3U\n#EXTINF:2,\n04.m4s\n", wantErr: true},
	{name: "part index too large", in: "#EXTM3U\n#EXT-X-PART:DURATION=1,URI=\"4.1001.m4s\"\n", wantErr: true},
}

func TestParsePlaylist(t *testing.T) {
	var pl playlist // reused, as a viewer does
	for _, c := range parseCases {
		t.Run(c.name, func(t *testing.T) {
			err := pl.parse([]byte(c.in))
			if (err != nil) != c.wantErr {
				t.Fatalf("parse: error %v, want error %v", err, c.wantErr)
			}
			if c.wantErr {
				return
			}
			if string(pl.mapURI) != c.mapURI || !slices.Equal(pl.segments, c.segments) || !slices.Equal(pl.parts, c.parts) {
				t.Errorf("got map %q segments %v parts %v, want %q %v %v", pl.mapURI, pl.segments, pl.parts, c.mapURI, c.segments, c.parts)
			}
			next, ok := pl.next()
			if ok != c.hasNext || next != c.next {
				t.Errorf("next() = %v %v, want %v %v", next, ok, c.next, c.hasNext)
			}
		})
	}
}

func FuzzParsePlaylist(f *testing.F) {
	for _, c := range parseCases {
		f.Add([]byte(c.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var pl playlist
		if err := pl.parse(b); err != nil {
			return
		}
		for _, r := range pl.segments {
			if r.p != -1 || r.n < 0 {
				t.Fatalf("segment %v", r)
			}
			if got, ok := parseName([]byte(r.name())); !ok || got != r {
				t.Fatalf("segment %v does not round-trip its name %q", r, r.name())
			}
		}
		for _, r := range pl.parts {
			if r.p < 0 || r.p > 1000 || r.n < 0 {
				t.Fatalf("part %v", r)
			}
			if got, ok := parseName([]byte(r.name())); !ok || got != r {
				t.Fatalf("part %v does not round-trip its name %q", r, r.name())
			}
		}
		if next, ok := pl.next(); ok {
			if newest, _ := pl.newestPart(); !next.after(newest) {
				t.Fatalf("next %v is not after the newest part %v", next, newest)
			}
		}
	})
}

func TestRefAfter(t *testing.T) {
	cases := []struct {
		a, b ref
		want bool
	}{
		{ref{2, 0}, ref{1, 3}, true},
		{ref{1, 3}, ref{1, 2}, true},
		{ref{1, -1}, ref{1, 3}, true}, // a segment ends with its last part
		{ref{1, 3}, ref{1, -1}, false},
		{ref{1, -1}, ref{1, -1}, false},
		{ref{0, 5}, ref{1, 0}, false},
	}
	for _, c := range cases {
		if got := c.a.after(c.b); got != c.want {
			t.Errorf("%v.after(%v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
