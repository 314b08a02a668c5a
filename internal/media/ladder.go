package media

import (
	"fmt"
	"math"
)

// SourceRendition is the name of the rendition that passes the source video
// through untouched.
const SourceRendition = "source"

// AudioRendition is the name of the audio-only rendition.
const AudioRendition = "audio"

// Rendition is one step of the ABR ladder: what to encode.
type Rendition struct {
	Name    string  `yaml:"name" json:"name"`
	Width   int     `yaml:"width" json:"width"`     // pixels; 0 derives it from Height and the source aspect
	Height  int     `yaml:"height" json:"height"`   // pixels
	FPS     float64 `yaml:"fps" json:"fps"`         // frames per second
	Bitrate int     `yaml:"bitrate" json:"bitrate"` // video bits per second
	Codec   Codec   `yaml:"codec" json:"codec"`     // h264 (default) or h265
	Preset  string  `yaml:"preset" json:"preset"`   // x264/x265 preset, default veryfast
	Profile string  `yaml:"profile" json:"profile"` // H.264 profile, default high
}

// DefaultLadder is the quality-matched default ladder (bitrates per Apple's
// HLS authoring guide for 16:9 H.264, rounded).
func DefaultLadder() []Rendition {
	return []Rendition{
		{Name: "1080p60", Height: 1080, FPS: 60, Bitrate: 6_000_000},
		{Name: "720p60", Height: 720, FPS: 60, Bitrate: 3_500_000},
		{Name: "480p30", Height: 480, FPS: 30, Bitrate: 1_200_000},
		{Name: "360p30", Height: 360, FPS: 30, Bitrate: 800_000},
		{Name: "240p30", Height: 240, FPS: 30, Bitrate: 400_000},
		{Name: "160p30", Height: 160, FPS: 30, Bitrate: 200_000},
	}
}

// Validate reports the first problem with a rendition.
func (r Rendition) Validate() error {
	switch {
	case r.Name == "" || r.Name == SourceRendition || r.Name == AudioRendition:
		return fmt.Errorf("rendition name %q is empty or reserved", r.Name)
	case !validName(r.Name):
		return fmt.Errorf("rendition name %q: use letters, digits, '-' and '_' only", r.Name)
	case r.Height <= 0 || r.Height%2 != 0 || r.Width < 0 || r.Width%2 != 0:
		return fmt.Errorf("rendition %s: width and height must be even and height positive", r.Name)
	case r.FPS <= 0 || r.FPS > 240:
		return fmt.Errorf("rendition %s: fps %v out of range (0, 240]", r.Name, r.FPS)
	case r.Bitrate < 32_000:
		return fmt.Errorf("rendition %s: bitrate %d below 32000 bit/s", r.Name, r.Bitrate)
	case r.Codec != "" && r.Codec != CodecH264 && r.Codec != CodecH265:
		return fmt.Errorf("rendition %s: codec %q not supported (h264, h265)", r.Name, r.Codec)
	}
	return nil
}

func validName(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

// Fit returns the renditions of ladder that do not exceed the source's
// height or frame rate (never upscale, never invent frames), with Width
// derived from the source aspect ratio where it is 0 and Codec and Preset
// defaulted. The result keeps the ladder's order.
func Fit(ladder []Rendition, src Track) []Rendition {
	var out []Rendition
	for _, r := range ladder {
		if src.Height > 0 && r.Height > src.Height {
			continue
		}
		// Allow a little slack: 59.94 sources keep 60 fps renditions.
		if src.FPS > 0 && r.FPS > src.FPS*1.01+0.1 {
			continue
		}
		if r.Width == 0 {
			w := 16.0 / 9.0 * float64(r.Height)
			if src.Width > 0 && src.Height > 0 {
				w = float64(src.Width) * float64(r.Height) / float64(src.Height)
			}
			r.Width = int(math.Round(w/2)) * 2
		}
		if r.Codec == "" {
			r.Codec = CodecH264
		}
		if r.Preset == "" {
			r.Preset = "veryfast"
		}
		if r.Profile == "" {
			r.Profile = "high"
		}
		out = append(out, r)
	}
	return out
}
