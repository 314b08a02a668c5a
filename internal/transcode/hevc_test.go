package transcode

import (
	"testing"
	"time"

	"onair/internal/media"
)

// TestPipelineHEVC runs an H.265 source into an H.264 and an H.265
// rendition.
func TestPipelineHEVC(t *testing.T) {
	c := makeClipCodec(t, 3, media.CodecH265)
	ladder := []media.Rendition{
		{Name: "avc", Height: 120, FPS: 15, Bitrate: 100_000, Preset: "ultrafast"},
		{Name: "hevc", Height: 120, FPS: 15, Bitrate: 100_000, Preset: "ultrafast", Codec: media.CodecH265},
	}
	h := startPipeline(t, Config{Passthrough: true, Ladder: ladder})
	pub, walls := mustPublish(t, h.st, c, 0, nil)
	pub.Close()
	h.out.waitFor(t, "every sink closed", 30*time.Second, func() bool {
		return h.out.allClosed("source", "audio", "avc", "hevc")
	})
	sess := pub.Session()
	if sess.Video.Codec != media.CodecH265 || len(sess.Video.VPS) == 0 {
		t.Fatalf("source track %+v", sess.Video)
	}
	for _, tt := range []struct {
		name  string
		codec media.Codec
	}{{"avc", media.CodecH264}, {"hevc", media.CodecH265}} {
		recs := h.out.get(tt.name)
		if len(recs) != 1 {
			t.Fatalf("%s opened %d times", tt.name, len(recs))
		}
		tk := recs[0].r.Track
		if tk.Codec != tt.codec || tk.Width != 160 || tk.Height != 120 || (tt.codec == media.CodecH265) != (len(tk.VPS) > 0) {
			t.Errorf("%s track %s %dx%d vps %d bytes", tt.name, tk.Codec, tk.Width, tk.Height, len(tk.VPS))
		}
		checkLadderRecording(t, recs[0], sess.Mapping.Anchor, 15, walls, sess.Mapping.Offset,
			func(pts int64) bool { return pts < firstVideoPTS(c)+sess.Mapping.Offset })
	}
}
