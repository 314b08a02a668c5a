package transcode

import (
	"context"
	"testing"
	"time"

	"onair/internal/media"
)

func TestBench(t *testing.T) {
	needFFmpeg(t)
	cfg := Config{Ladder: testLadder(), Grid: testGrid}
	speed, err := Bench(t.Context(), cfg, track(320, 240, 30), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("2-step 240p ladder: %.1fx real time", speed)
	if speed <= 0.5 {
		t.Errorf("speed %.2f: a 320x240 ladder should run faster than real time", speed)
	}

	tests := []struct {
		name string
		cfg  Config
		src  media.Track
	}{
		{"missing ffmpeg", Config{FFmpeg: "/nonexistent/ffmpeg", Ladder: testLadder()}, track(320, 240, 30)},
		{"nothing fits", Config{Ladder: testLadder()}, track(160, 90, 30)},
		{"no size", Config{Ladder: testLadder()}, media.Track{FPS: 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Bench(t.Context(), tt.cfg, tt.src, time.Second); err == nil {
				t.Error("no error")
			}
		})
	}
}

// BenchmarkLadder reports how fast this machine runs the default ladder
// for a 720p30 source (speed = x real time; below 1 it cannot run live).
func BenchmarkLadder(b *testing.B) {
	needFFmpeg(b)
	for b.Loop() {
		speed, err := Bench(context.Background(), Config{}, track(1280, 720, 30), 4*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(speed, "x-realtime")
	}
}
