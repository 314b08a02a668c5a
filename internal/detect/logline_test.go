package detect

import (
	"math"
	"strings"
	"testing"

	"onair/internal/media"
)

// lineCases feed both TestParseLine and FuzzParseLine's seed corpus. The
// inputs are lines ffmpeg 5.1 wrote for the Detector's filter graph.
var lineCases = []struct {
	name string
	in   string
	want logLine
}{
	{
		name: "video frame",
		in:   "[metadata@onair_video @ 0x5569d4fbf740] frame:12   pts:1130920 pts_time:1.13092",
		want: logLine{Kind: lineFrame, Track: media.KindVideo, PTS: 1130920, Time: 1.13092, HasPTS: true},
	},
	{
		name: "audio frame",
		in:   "[ametadata@onair_audio @ 0x5569d4fc19c0] frame:0    pts:67200   pts_time:1.4",
		want: logLine{Kind: lineFrame, Track: media.KindAudio, PTS: 67200, Time: 1.4, HasPTS: true},
	},
	{
		name: "frame without timestamp",
		in:   "[metadata@onair_video @ 0x1] frame:3    pts:NOPTS   pts_time:NOPTS",
		want: logLine{Kind: lineFrame, Track: media.KindVideo},
	},
	{
		name: "black start",
		in:   "[metadata@onair_video @ 0x5569d4fbf740] lavfi.black_start=4.42133",
		want: logLine{Kind: lineMeta, Track: media.KindVideo, Key: "lavfi.black_start", Value: "4.42133"},
	},
	{
		name: "freeze start",
		in:   "[metadata@onair_video @ 0x5569d4fbf740] lavfi.freezedetect.freeze_start=4.42133",
		want: logLine{Kind: lineMeta, Track: media.KindVideo, Key: "lavfi.freezedetect.freeze_start", Value: "4.42133"},
	},
	{
		name: "silence start, exponent",
		in:   "[ametadata@onair_audio @ 0x5569d4fc19c0] lavfi.silence_start=1.00001e+06",
		want: logLine{Kind: lineMeta, Track: media.KindAudio, Key: "lavfi.silence_start", Value: "1.00001e+06"},
	},
	{
		name: "end key",
		in:   "[ametadata@onair_audio @ 0x5569d4fc19c0] onair.end=1",
		want: logLine{Kind: lineMeta, Track: media.KindAudio, Key: "onair.end", Value: "1"},
	},
	{
		name: "the filter's own log line is not ours",
		in:   "[silencedetect @ 0x5569d4fc0480] silence_start: 4.43048",
	},
	{
		name: "blackdetect summary",
		in:   "[blackdetect @ 0x5569d4fcbc40] black_start:4.42133 black_end:7.45467 black_duration:3.03333",
	},
	{name: "banner", in: "Input #0, matroska,webm, from 'pipe:0':"},
	{name: "progress", in: "frame=    6 fps=2.0 q=-0.0 Lsize=N/A time=-00:00:00.27 bitrate=N/A speed=N/A"},
	{name: "prefix only", in: "[metadata@onair_video @ 0x1]"},
	{name: "no body", in: "[metadata@onair_video @ 0x1] "},
	{name: "key with space", in: "[metadata@onair_video @ 0x1] a b=c"},
	{name: "empty key", in: "[metadata@onair_video @ 0x1] =c"},
	{name: "bad pts", in: "[metadata@onair_video @ 0x1] frame:1 pts:12x pts_time:1"},
	{name: "bad time", in: "[metadata@onair_video @ 0x1] frame:1 pts:12 pts_time:nan"},
	{name: "huge time", in: "[metadata@onair_video @ 0x1] frame:1 pts:12 pts_time:1e300"},
	{name: "negative frame", in: "[metadata@onair_video @ 0x1] frame:-1 pts:12 pts_time:1"},
	{name: "field without colon", in: "[metadata@onair_video @ 0x1] frame:1 pts 12"},
	{name: "other instance", in: "[metadata@other @ 0x1] lavfi.black_start=1"},
	{name: "empty", in: ""},
}

func TestParseLine(t *testing.T) {
	for _, tt := range lineCases {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseLine(tt.in); got != tt.want {
				t.Errorf("parseLine(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzParseLine(f *testing.F) {
	for _, tt := range lineCases {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		l := parseLine(in)
		switch l.Kind {
		case lineOther:
			if l != (logLine{}) {
				t.Fatalf("other line with fields: %+v", l)
			}
		case lineFrame:
			if l.Track != media.KindVideo && l.Track != media.KindAudio {
				t.Fatalf("frame of track %v", l.Track)
			}
			if math.IsNaN(l.Time) || math.IsInf(l.Time, 0) || (!l.HasPTS && (l.PTS != 0 || l.Time != 0)) {
				t.Fatalf("bad frame %+v", l)
			}
			_ = frameTicks(l) // must not panic
		case lineMeta:
			if l.Key == "" || strings.ContainsAny(l.Key, " \t=") {
				t.Fatalf("bad key %q", l.Key)
			}
		}
		// Whatever the line, the tracker must take it.
		tr := newTracker(1)
		tr.feed(l)
	})
}
