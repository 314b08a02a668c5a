package main

import (
	"errors"
	"image"
	"image/color"
	"image/draw"
	"slices"
	"strings"
	"testing"
	"time"

	"onair/internal/media"
	"onair/internal/transcode"
)

// clockPicture draws the clock strip for msec into a w x h picture placed
// at box inside a canvas of canvas size, the way a page shows the video.
func clockPicture(msec int64, canvas, box image.Rectangle) *image.RGBA {
	img := image.NewRGBA(canvas)
	draw.Draw(img, canvas, image.NewUniform(color.RGBA{40, 80, 200, 255}), image.Point{}, draw.Src)
	sx := float64(box.Dx()) / srcW
	sy := float64(box.Dy()) / srcH
	fill := func(x, y, w, h int, c color.Color) {
		r := image.Rect(box.Min.X+int(float64(x)*sx), box.Min.Y+int(float64(y)*sy),
			box.Min.X+int(float64(x+w)*sx), box.Min.Y+int(float64(y+h)*sy))
		draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
	}
	fill(0, clockBlockY-10, 1280, clockBlockH+20, color.Black)
	for i := range clockBits {
		if msec&(1<<i) != 0 {
			fill(clockBlockX+i*clockBlockW, clockBlockY, clockBlockW, clockBlockH, color.White)
		}
	}
	fill(sentinelX(), clockBlockY, clockBlockW, clockBlockH, color.White)
	return img
}

func TestDecodeClock(t *testing.T) {
	midnight := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	msec := int64(17*3600_000 + 41*60_000 + 44_989) // 17:41:44.989
	cases := []struct {
		name        string
		canvas, box image.Rectangle
	}{
		{"decoded frame", image.Rect(0, 0, 1280, 720), image.Rect(0, 0, 1280, 720)},
		{"480p frame", image.Rect(0, 0, 854, 480), image.Rect(0, 0, 854, 480)},
		{"page screenshot", image.Rect(0, 0, 1280, 800), image.Rect(24, 72, 892, 560)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := clockPicture(msec, c.canvas, c.box)
			got, err := decodeClock(img, c.box, midnight)
			if err != nil {
				t.Fatal(err)
			}
			if want := midnight.Add(time.Duration(msec) * time.Millisecond); !got.Equal(want) {
				t.Errorf("decoded %v, want %v", got.Format("15:04:05.000"), want.Format("15:04:05.000"))
			}
		})
	}
	blank := image.NewRGBA(image.Rect(0, 0, 1280, 720))
	if _, err := decodeClock(blank, blank.Bounds(), midnight); !errors.Is(err, errNoClock) {
		t.Errorf("a picture without the strip: err = %v, want errNoClock", err)
	}
}

func TestClockFilterEscaping(t *testing.T) {
	f := clockFilter(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC))
	for _, want := range []string{"setpts=RTCTIME-1795478400000000", `pow(2\,26))\,2)`, `%{pts\\\:hms}`, ",setpts=N/30/TB"} {
		if !strings.Contains(f, want) {
			t.Errorf("clock filter lacks %q", want)
		}
	}
}

func TestRawTranscodeArgs(t *testing.T) {
	raw := rawTranscodeArgs("/tmp/src.ts")
	ladder := media.Fit(media.DefaultLadder(), srcTrack)
	if n := strings.Count(strings.Join(raw, " "), "/dev/null"); n != len(ladder) {
		t.Errorf("%d /dev/null outputs, want %d", n, len(ladder))
	}
	i := slices.Index(raw, "-i")
	if i < 3 || raw[i-3] != "-re" || raw[i-2] != "-f" || raw[i-1] != "mpegts" || raw[i+1] != "/tmp/src.ts" {
		t.Errorf("input part of %v", raw)
	}
	// What onair runs for the same source at its anchor: pipe input and
	// pipe outputs, otherwise the same.
	start := int64(2 * media.Timescale)
	onair := append([]string{"/usr/bin/ffmpeg"}, transcode.BuildArgs(transcode.Args{
		Source: srcTrack, Renditions: ladder, Segment: 2 * time.Second, FirstPTS: start, StartPTS: start,
	})...)
	if !slices.Equal(normalizeArgv(raw), normalizeArgv(onair)) {
		t.Errorf("normalized argvs differ:\n%v\n%v", normalizeArgv(raw), normalizeArgv(onair))
	}
}

func TestShellQuote(t *testing.T) {
	got := shellQuote([]string{"ffmpeg", "-i", "a b", "-g", "daemon off;", "it's", ""})
	want := `ffmpeg -i 'a b' -g 'daemon off;' 'it'\''s' ''`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
