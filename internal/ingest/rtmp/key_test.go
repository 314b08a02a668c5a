package rtmp

import (
	"net/url"
	"strings"
	"testing"
)

var keyCases = []struct {
	url     string
	want    string
	wantErr bool
}{
	{url: "rtmp://127.0.0.1:1935/live/abc123", want: "abc123"},
	{url: "rtmp://h/live/abc123?token=x", want: "abc123"},
	{url: "rtmp://h/app/inst/abc123", want: "abc123"},
	{url: "rtmps://h:443/live/abc%3Fparam", want: "abc"},
	{url: "rtmp://h/live/abc/", want: "abc"},
	{url: "rtmp://h/live", wantErr: true},
	{url: "rtmp://h/live/", wantErr: true},
	{url: "rtmp://h/", wantErr: true},
	{url: "rtmp://h/live/%3Fonly-query", wantErr: true},
	{url: "rtmp://h/live/a%00b", wantErr: true},
	{url: "rtmp://h/live/" + strings.Repeat("k", maxKeyLen+1), wantErr: true},
}

func TestStreamKey(t *testing.T) {
	for _, tt := range keyCases {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		got, err := streamKey(u)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("streamKey(%q) = %q, %v; want %q, error %v", tt.url, got, err, tt.want, tt.wantErr)
		}
	}
	if _, err := streamKey(nil); err == nil {
		t.Error("nil url accepted")
	}
}

func FuzzStreamKey(f *testing.F) {
	for _, tt := range keyCases {
		f.Add(tt.url)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		key, err := streamKey(u)
		if err != nil {
			return
		}
		if key == "" || len(key) > maxKeyLen || strings.ContainsAny(key, "/?") {
			t.Fatalf("streamKey(%q) = %q", raw, key)
		}
		if !strings.Contains(u.Path, key) {
			t.Fatalf("key %q is not from the path %q", key, u.Path)
		}
	})
}
