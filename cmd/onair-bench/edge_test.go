package main

import (
	"bytes"
	"testing"
)

var varnishHitCases = []struct {
	name string
	in   string
	want bool
}{
	{name: "hit", in: "32770 3", want: true},
	{name: "hit with spaces around", in: " 65538  32771 ", want: true},
	{name: "miss", in: "2", want: false},
	{name: "empty", in: "", want: false},
	{name: "three ids", in: "1 2 3", want: false},
	{name: "not numbers", in: "abc 3", want: false},
	{name: "signed", in: "-1 3", want: false},
}

func TestVarnishHit(t *testing.T) {
	for _, c := range varnishHitCases {
		t.Run(c.name, func(t *testing.T) {
			if got := varnishHit(c.in); got != c.want {
				t.Errorf("varnishHit(%q) = %v, want %v", c.in, got, c.want)
			}
		})
	}
}

func FuzzVarnishHit(f *testing.F) {
	for _, c := range varnishHitCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if varnishHit(s) && len(bytes.Fields([]byte(s))) != 2 {
			t.Errorf("varnishHit(%q) is true without two ids", s)
		}
	})
}

func TestEdgeObjects(t *testing.T) {
	for _, n := range []int{200, 1024, 4096} {
		p := edgePlaylist(n)
		if len(p) != n || !bytes.HasPrefix(p, []byte("#EXTM3U\n")) || !bytes.Contains(p, []byte("0.m4s\n")) {
			t.Errorf("edgePlaylist(%d): %d bytes, want a playlist of exactly %d:\n%s", n, len(p), n, p)
		}
	}
	a, b := edgeSegment(1<<20), edgeSegment(1<<20)
	if len(a) != 1<<20 || !bytes.Equal(a, b) {
		t.Errorf("edgeSegment: %d bytes, same on two calls %v", len(a), bytes.Equal(a, b))
	}
}
