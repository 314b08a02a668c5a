package packager

import (
	"os"
	"path/filepath"
	"testing"

	"onair/internal/live"
	"onair/internal/media"
)

// TestDecodeWithFFmpeg packages real encodes and has ffmpeg decode what a
// player would fetch: the init followed by every segment, and separately
// the init followed by every part.
func TestDecodeWithFFmpeg(t *testing.T) {
	const seconds = 4.5 // two whole segments and a trailing one
	frames, asc := encodeAAC(t, seconds, 48000)
	h264 := encodeVideo(t, "libx264", "320x180", seconds, 30, 60)
	tests := []struct {
		name   string
		r      Rendition
		units  []media.Unit
		frames int
	}{
		{
			name:   "h264",
			r:      videoRendition("360p30", 30),
			units:  videoUnits(h264, 30, anchorSeg*segTicks),
			frames: len(h264),
		},
		{
			name:   "h264 with b-frames",
			r:      videoRendition("source", 30),
			units:  videoUnits(encodeBFrames(t, seconds, 30, 60), 30, anchorSeg*segTicks),
			frames: int(seconds * 30),
		},
		{
			name: "h265",
			r: Rendition{Name: "hevc", Track: media.Track{Kind: media.KindVideo, Codec: media.CodecH265, FPS: 30},
				Mapping: media.Mapping{Anchor: anchorSeg * segTicks}},
			units:  videoUnits(encodeVideo(t, "libx265", "320x180", seconds, 30, 60), 30, anchorSeg*segTicks),
			frames: int(seconds * 30),
		},
		{
			name: "aac",
			r: Rendition{Name: "audio", Track: media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, AudioConfig: asc,
				SampleRate: 48000, Channels: 2}},
			units:  audioUnits(frames, 48000, anchorSeg*segTicks),
			frames: len(frames),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{}, nil)
			f.write(t, tc.r, tc.units)
			snap := f.snapshot(t, tc.r.Name)
			if len(snap.Segments) != 3 {
				t.Fatalf("%d segments, want 3", len(snap.Segments))
			}
			init := f.get(t, live.InitKey("ch", tc.r.Name, "init.mp4"))
			segs, parts := init, init
			for _, s := range snap.Segments {
				segs = append(segs, f.get(t, live.SegmentKey("ch", tc.r.Name, s.Number))...)
				for i := range s.Parts {
					parts = append(parts, f.get(t, live.PartKey("ch", tc.r.Name, s.Number, i))...)
				}
			}
			dir := t.TempDir()
			for name, b := range map[string][]byte{"segments.mp4": segs, "parts.mp4": parts} {
				path := filepath.Join(dir, name)
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
				if got := ffprobeFrames(t, path); got != tc.frames {
					t.Errorf("%s: ffmpeg decoded %d frames, want %d", name, got, tc.frames)
				}
			}
		})
	}
}
