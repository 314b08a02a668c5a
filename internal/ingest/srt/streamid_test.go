package srt

import (
	"strings"
	"testing"
	"unicode/utf8"
)

var streamIDCases = []struct {
	in      string
	want    streamID
	wantErr bool
}{
	{in: "abc123", want: streamID{Key: "abc123", Mode: modePublish}},
	{in: "live/abc", want: streamID{Key: "live/abc", Mode: modePublish}},
	{in: "#!::r=abc123,m=publish", want: streamID{Key: "abc123", Mode: modePublish}},
	{in: "#!::m=publish,r=abc123,u=alice,t=stream,s=x", want: streamID{Key: "abc123", Mode: modePublish, User: "alice"}},
	{in: "#!::r=abc123", want: streamID{Key: "abc123", Mode: modeRequest}},
	{in: "#!::r=abc,m=request", want: streamID{Key: "abc", Mode: modeRequest}},
	{in: "#!::r=abc,m=bidirectional", want: streamID{Key: "abc", Mode: modeBidirectional}},
	{in: "#!::r=a=b,m=publish", want: streamID{Key: "a=b", Mode: modePublish}},
	{in: "%23%21%3A%3Ar%3Dabc%2Cm%3Dpublish", want: streamID{Key: "abc", Mode: modePublish}},
	{in: "%23!::r=abc,m=publish", want: streamID{Key: "abc", Mode: modePublish}},
	{in: "abc%20def", want: streamID{Key: "abc%20def", Mode: modePublish}},
	{in: "%23%21%3A%3Ar%3Dabc%ZZ", wantErr: true},
	{in: "", wantErr: true},
	{in: "#!::", wantErr: true},
	{in: "#!::m=publish", wantErr: true},
	{in: "#!::r=,m=publish", wantErr: true},
	{in: "#!::r=abc,m=play", wantErr: true},
	{in: "#!::r=abc,,m=publish", wantErr: true},
	{in: "#!::r=abc,r=def", wantErr: true},
	{in: "#!::r=abc,novalue", wantErr: true},
	{in: "#!{\"r\":\"abc\"}", wantErr: true},
	{in: "ab\x00c", wantErr: true},
	{in: "ab\xffc", wantErr: true},
	{in: strings.Repeat("k", maxStreamIDLen+1), wantErr: true},
}

func TestParseStreamID(t *testing.T) {
	for _, tt := range streamIDCases {
		got, err := parseStreamID(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseStreamID(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzParseStreamID(f *testing.F) {
	for _, tt := range streamIDCases {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		id, err := parseStreamID(in)
		if err != nil {
			return
		}
		if id.Key == "" || !utf8.ValidString(id.Key) || len(id.Key) > len(in) {
			t.Fatalf("parseStreamID(%q) gave key %q", in, id.Key)
		}
		switch id.Mode {
		case modePublish, modeRequest, modeBidirectional:
		default:
			t.Fatalf("parseStreamID(%q) gave mode %q", in, id.Mode)
		}
		if !strings.HasPrefix(in, "#!") && !strings.HasPrefix(strings.ToUpper(in), "%23") && (id.Key != in || id.Mode != modePublish) {
			t.Fatalf("plain stream id %q parsed as %+v", in, id)
		}
		if strings.HasPrefix(in, "#!::") && !strings.Contains(in, "r="+id.Key) && !strings.HasPrefix(strings.ToUpper(in), "%23") {
			t.Fatalf("key %q is not the r= value of %q", id.Key, in)
		}
	})
}
