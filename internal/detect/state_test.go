package detect

import (
	"fmt"
	"testing"
	"time"

	"onair/internal/media"
)

// Helpers writing the lines ffmpeg prints for one frame. t is seconds on
// the fed timeline; video PTS is in microseconds (the fed Matroska time
// base), audio PTS in samples at 48 kHz.
func videoFrame(t float64, meta ...string) []string {
	lines := []string{fmt.Sprintf("[metadata@onair_video @ 0x1] frame:1 pts:%d pts_time:%g", int64(t*1e6+0.5), t)}
	for _, m := range meta {
		lines = append(lines, "[metadata@onair_video @ 0x1] "+m)
	}
	return append(lines, "[metadata@onair_video @ 0x1] onair.end=1")
}

func audioFrame(t float64, meta ...string) []string {
	lines := []string{fmt.Sprintf("[ametadata@onair_audio @ 0x2] frame:1 pts:%d pts_time:%g", int64(t*48000), t)}
	for _, m := range meta {
		lines = append(lines, "[ametadata@onair_audio @ 0x2] "+m)
	}
	return append(lines, "[ametadata@onair_audio @ 0x2] onair.end=1")
}

type condWant struct {
	black, frozen, silent bool
	since                 [numConds]float64 // seconds, for the set ones
}

func TestTracker(t *testing.T) {
	type step struct {
		lines []string
		want  condWant
	}
	black := 2 * time.Second
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "black after its duration, cleared by the first picture",
			steps: []step{
				{lines: videoFrame(1.0)},
				{lines: videoFrame(2.0, "lavfi.black_start=2")},
				{lines: videoFrame(3.0)},
				{lines: videoFrame(3.999)},
				{lines: videoFrame(4.0), want: condWant{black: true, since: [numConds]float64{2}}},
				{lines: videoFrame(5.0), want: condWant{black: true, since: [numConds]float64{2}}},
				{lines: videoFrame(5.5, "lavfi.black_end=5.5")},
			},
		},
		{
			name: "black shorter than its duration is never reported",
			steps: []step{
				{lines: videoFrame(2.0, "lavfi.black_start=2")},
				{lines: videoFrame(3.9, "lavfi.black_end=3.9")},
				{lines: videoFrame(4.5)},
				{lines: videoFrame(6.0, "lavfi.black_start=6")},
				{lines: videoFrame(7.0)},
			},
		},
		{
			name: "the frame that ends black does not set it",
			steps: []step{
				{lines: videoFrame(2.0, "lavfi.black_start=2")},
				{lines: videoFrame(4.0, "lavfi.black_end=4")},
			},
		},
		{
			name: "freeze as freezedetect reports it",
			steps: []step{
				{lines: videoFrame(10.0)},
				{lines: videoFrame(12.0, "lavfi.freezedetect.freeze_start=10.0333"), want: condWant{frozen: true, since: [numConds]float64{0, 10.0333}}},
				{lines: videoFrame(12.0333), want: condWant{frozen: true, since: [numConds]float64{0, 10.0333}}},
				{lines: videoFrame(13.0, "lavfi.freezedetect.freeze_duration=2.9667", "lavfi.freezedetect.freeze_end=13")},
			},
		},
		{
			name: "sparse frames: freezedetect's start and end on one frame is no freeze",
			steps: []step{
				{lines: videoFrame(1.0)},
				{lines: videoFrame(3.0, "lavfi.freezedetect.freeze_start=1", "lavfi.freezedetect.freeze_duration=2", "lavfi.freezedetect.freeze_end=3")},
				{lines: videoFrame(5.0, "lavfi.freezedetect.freeze_start=3"), want: condWant{frozen: true, since: [numConds]float64{0, 3}}},
				{lines: videoFrame(7.0, "lavfi.freezedetect.freeze_duration=4", "lavfi.freezedetect.freeze_end=7")},
			},
		},
		{
			name: "black and frozen together",
			steps: []step{
				{lines: videoFrame(2.0, "lavfi.black_start=2")},
				{lines: videoFrame(4.0, "lavfi.freezedetect.freeze_start=2"), want: condWant{black: true, frozen: true, since: [numConds]float64{2, 2}}},
				{lines: videoFrame(5.0, "lavfi.black_end=5", "lavfi.freezedetect.freeze_duration=3", "lavfi.freezedetect.freeze_end=5")},
			},
		},
		{
			name: "silence",
			steps: []step{
				{lines: audioFrame(1.0)},
				{lines: audioFrame(5.0, "lavfi.silence_start=3.00221"), want: condWant{silent: true, since: [numConds]float64{0, 0, 3.0022}}},
				{lines: videoFrame(5.5), want: condWant{silent: true, since: [numConds]float64{0, 0, 3.0022}}},
				{lines: audioFrame(6.0, "lavfi.silence_end=6.0", "lavfi.silence_duration=3")},
			},
		},
		{
			name: "unreadable start value: the frame's own time",
			steps: []step{
				{lines: audioFrame(5.0, "lavfi.silence_start=garbage"), want: condWant{silent: true, since: [numConds]float64{0, 0, 5.0}}},
			},
		},
		{
			name: "a block without its end key is not applied",
			steps: []step{
				{lines: videoFrame(2.0, "lavfi.black_start=2")},
				{lines: []string{"[metadata@onair_video @ 0x1] frame:9 pts:4000000 pts_time:4", "[metadata@onair_video @ 0x1] lavfi.black_end=4"}},
				{lines: videoFrame(4.1), want: condWant{black: true, since: [numConds]float64{2}}},
			},
		},
		{
			name: "an end key without a frame line is ignored",
			steps: []step{
				{lines: []string{"[metadata@onair_video @ 0x1] lavfi.black_start=1", "[metadata@onair_video @ 0x1] onair.end=1"}},
				{lines: videoFrame(4.0)},
			},
		},
		{
			name: "frames without timestamps are ignored",
			steps: []step{
				{lines: videoFrame(2.0, "lavfi.black_start=2")},
				{lines: []string{"[metadata@onair_video @ 0x1] frame:3 pts:NOPTS pts_time:NOPTS", "[metadata@onair_video @ 0x1] onair.end=1"}},
				{lines: videoFrame(4.0), want: condWant{black: true, since: [numConds]float64{2}}},
			},
		},
		{
			name: "unrelated lines change nothing",
			steps: []step{
				{lines: []string{"[h264 @ 0x1] no frame!", "frame=  6 fps=2.0", "[blackdetect @ 0x2] black_start:1 black_end:9 black_duration:8"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTracker(black)
			for i, s := range tt.steps {
				for _, l := range s.lines {
					tr.feed(parseLine(l))
				}
				got := condWant{black: tr.cond[condBlack].active, frozen: tr.cond[condFrozen].active, silent: tr.cond[condSilent].active}
				for c := range numConds {
					if tr.cond[c].active {
						got.since[c] = float64(tr.cond[c].since) / media.Timescale
					}
				}
				for c := range numConds {
					got.since[c] = float64(int64(got.since[c]*1e4+0.5)) / 1e4
				}
				if got != s.want {
					t.Fatalf("after step %d: got %+v, want %+v", i, got, s.want)
				}
			}
		})
	}
}

func TestTrackerProgress(t *testing.T) {
	tr := newTracker(time.Second)
	for _, l := range append(videoFrame(1.5), audioFrame(1.25)...) {
		tr.feed(parseLine(l))
	}
	if !tr.seenVideo || tr.lastVideo != 135000 || !tr.seenAudio || tr.lastAudio != 112500 {
		t.Errorf("progress: video %v %d, audio %v %d", tr.seenVideo, tr.lastVideo, tr.seenAudio, tr.lastAudio)
	}
}

func TestFrameTicks(t *testing.T) {
	tests := []struct {
		name string
		l    logLine
		want int64
	}{
		{"microseconds", logLine{PTS: 1_033_333, Time: 1.03333, HasPTS: true}, 93000},
		{"90 kHz", logLine{PTS: 93000, Time: 1.03333, HasPTS: true}, 93000},
		{"samples", logLine{PTS: 49600, Time: 1.03333, HasPTS: true}, 93000},
		{"large microseconds stay exact", logLine{PTS: 123_456_789_011, Time: 123457, HasPTS: true}, 11_111_111_011},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := frameTicks(tt.l); got != tt.want {
				t.Errorf("frameTicks(%+v) = %d, want %d", tt.l, got, tt.want)
			}
		})
	}
}

func TestStateString(t *testing.T) {
	tests := []struct {
		s    State
		want string
	}{
		{State{}, "unknown"},
		{State{Known: true, Healthy: true, At: Mark{PTS: 90000}}, "healthy at 1.000s"},
		{State{Known: true, Black: true, BlackSince: Mark{PTS: 270000}, Silent: true, SilentSince: Mark{PTS: 271890}, At: Mark{PTS: 450000}},
			"black since 3.000s, silent since 3.021s at 5.000s"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
