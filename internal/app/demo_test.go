package app

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The demo source's filtergraph (escaping included) is accepted by the
// real ffmpeg and renders frames.
func TestDemoSourceRenders(t *testing.T) {
	out := filepath.Join(t.TempDir(), "frame.png")
	args := append(demoInputs(time.Date(2026, 11, 24, 17, 0, 34, 567e6, time.UTC)), "-map", "0:v", "-frames:v", "1", "-update", "1", "-y", out)
	cmd := exec.Command("ffmpeg", args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg rejected the demo source: %v\n%s", err, b)
	}
}
