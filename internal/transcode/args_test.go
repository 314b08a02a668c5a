package transcode

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onair/internal/media"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func track(w, h int, fps float64) media.Track {
	return media.Track{Kind: media.KindVideo, Codec: media.CodecH264, Width: w, Height: h, FPS: fps}
}

func TestBuildArgsGolden(t *testing.T) {
	const pad = 2 * 90000 // what the pipeline writes first: one 2 s segment of padding
	custom := []media.Rendition{
		{Name: "hd", Height: 720, FPS: 30, Bitrate: 2_500_000, Preset: "faster", Profile: "main"},
		{Name: "hevc", Height: 360, FPS: 30, Bitrate: 500_000, Codec: media.CodecH265, Preset: "ultrafast"},
	}
	tests := []struct {
		name   string
		src    media.Track
		ladder []media.Rendition
		args   Args // Source and Renditions filled from src and ladder
	}{
		{name: "default_1080p60", src: track(1920, 1080, 60), ladder: media.DefaultLadder()},
		{name: "default_720p30", src: track(1280, 720, 30), ladder: media.DefaultLadder()},
		{name: "default_480p30", src: track(854, 480, 30), ladder: media.DefaultLadder()},
		{name: "ntsc_1080p2997", src: track(1920, 1080, 30000.0/1001), ladder: media.DefaultLadder()},
		{name: "low_latency", src: track(1280, 720, 30), ladder: media.DefaultLadder()[2:4], args: Args{LowLatency: true, Threads: 2}},
		{name: "custom_h265", src: track(1920, 1080, 30), ladder: custom},
		// A restart mid-segment: the first frame is 0.7 s into a segment,
		// output resumes at the next boundary.
		{name: "restart_next_boundary", src: track(1280, 720, 30), ladder: media.DefaultLadder()[2:4], args: Args{FirstPTS: pad + 63000, StartPTS: pad + 180000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.args
			a.Source = tt.src
			a.Renditions = media.Fit(tt.ladder, tt.src)
			a.Segment = 2 * time.Second
			if a.FirstPTS == 0 {
				a.FirstPTS, a.StartPTS = pad, pad
			}
			got := strings.Join(BuildArgs(a), "\n") + "\n"
			path := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got != string(want) {
				t.Errorf("argv differs from %s (run with -update after checking):\n%s", path, diffLines(string(want), got))
			}
		})
	}
}

func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d: want %s\n         got  %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}

func TestFrameRate(t *testing.T) {
	tests := []struct {
		rendition, source float64
		num, den          int
	}{
		{60, 60, 60, 1},
		{60, 59.94, 60000, 1001}, // Fit keeps a 60 rendition for 59.94: use the source's exact rate
		{30, 60, 30, 1},
		{30, 29.97, 30000, 1001},
		{30, 25, 25, 1},
		{30, 0, 30, 1}, // unknown source rate
		{24, 23.976, 24000, 1001},
		{30, 12.5, 12500, 1000},
	}
	for _, tt := range tests {
		num, den := frameRate(media.Rendition{FPS: tt.rendition}, media.Track{FPS: tt.source})
		if num != tt.num || den != tt.den {
			t.Errorf("frameRate(%v, src %v) = %d/%d, want %d/%d", tt.rendition, tt.source, num, den, tt.num, tt.den)
		}
	}
}

// TestKeyframePhase checks the keyframe expression's constant: the
// encoder's first frame's offset after a segment boundary, plus half a
// frame.
func TestKeyframePhase(t *testing.T) {
	tests := []struct {
		name      string
		fps       float64
		first     int64
		start     int64
		wantSlot  int64
		wantPhase string
	}{
		{name: "on boundary", fps: 30, first: 180000, start: 180000, wantSlot: 60, wantPhase: "0.016667"},
		{name: "B-frame delay padded to start", fps: 30, first: 186000, start: 180000, wantSlot: 60, wantPhase: "0.016667"},
		{name: "no start (bench)", fps: 30, first: 186000, wantSlot: 62, wantPhase: "0.083333"},
		{name: "restart at next boundary", fps: 30, first: 243000, start: 360000, wantSlot: 120, wantPhase: "0.016667"},
		{name: "restart at 15 fps", fps: 15, first: 243000, start: 360000, wantSlot: 60, wantPhase: "0.033333"},
		// 4 s is not on a 29.97 slot: slot 120 is at 4.004 s.
		{name: "restart ntsc", fps: 30000.0 / 1001, first: 243000, start: 360000, wantSlot: 120, wantPhase: "0.020683"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := media.Rendition{Name: "r", Width: 320, Height: 240, FPS: tt.fps, Bitrate: 100000}
			a := Args{Source: track(320, 240, tt.fps), Renditions: []media.Rendition{r}, Segment: 2 * time.Second, FirstPTS: tt.first, StartPTS: tt.start}
			num, den := frameRate(r, a.Source)
			if got := firstSlot(a, num, den); got != tt.wantSlot {
				t.Errorf("first slot = %d, want %d", got, tt.wantSlot)
			}
			argv := strings.Join(BuildArgs(a), " ")
			if !strings.Contains(argv, "floor((t+"+tt.wantPhase+")/2)") {
				t.Errorf("argv lacks phase %s: %s", tt.wantPhase, argv)
			}
		})
	}
}
