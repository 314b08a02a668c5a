package main

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"strings"
	"time"
)

// The live source of the latency figure carries its capture time twice:
// as text (UTC time of day to the millisecond, for a person) and as a
// row of clockBits black/white blocks near the bottom of the 1280x720
// picture (milliseconds since UTC midnight of the run's day, least
// significant bit first, for the bench). A white sentinel block follows
// the bits. The time is the wall clock when the frame left ffmpeg's
// realtime filter (setpts=RTCTIME), i.e. its capture time.
const (
	clockBits   = 27 // 2^27 ms > 37 h
	clockBlockX = 20 // left edge of bit 0, pixels in the 1280x720 source
	clockBlockW = 44
	clockBlockY = 660
	clockBlockH = 40
	clockFont   = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
	srcW, srcH  = 1280.0, 720.0
)

// sentinelX returns the left edge of the always-white block.
func sentinelX() int { return clockBlockX + clockBits*clockBlockW + 8 }

// clockFilter returns the lavfi video graph of the clock source. midnight
// is the UTC midnight the burnt-in times count from.
func clockFilter(midnight time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "testsrc2=size=1280x720:rate=30,realtime,settb=AVTB,setpts=RTCTIME-%d", midnight.UnixMicro())
	fmt.Fprintf(&b, ",drawbox=x=0:y=%d:w=1280:h=%d:color=black:t=fill", clockBlockY-10, clockBlockH+20)
	for i := range clockBits {
		// t is the frame time in seconds since midnight.
		fmt.Fprintf(&b, ",drawbox=x=%d:y=%d:w=%d:h=%d:color=white:t=fill:enable='mod(floor(t*1000/pow(2\\,%d))\\,2)'",
			clockBlockX+i*clockBlockW, clockBlockY, clockBlockW, clockBlockH, i)
	}
	fmt.Fprintf(&b, ",drawbox=x=%d:y=%d:w=%d:h=%d:color=white:t=fill", sentinelX(), clockBlockY, clockBlockW, clockBlockH)
	font := ""
	if _, err := os.Stat(clockFont); err == nil {
		font = "fontfile=" + clockFont + ":"
	}
	// Filtergraph escaping: "\\\:" reaches drawtext as "\:" and its
	// expansion as ":".
	fmt.Fprintf(&b, `,drawtext=%sfontsize=72:fontcolor=white:box=1:boxcolor=black@0.7:boxborderw=12:x=40:y=40:text=%%{pts\\\:hms} UTC`, font)
	// Back to a plain 30 fps timeline for the encoder.
	b.WriteString(",setpts=N/30/TB")
	return b.String()
}

// clockSourceArgs returns the publisher of the latency figure: the clock
// source and a tone, x264 ultrafast zerolatency, a keyframe every 2 s,
// pushed over RTMP. Both are paced by realtime filters (not -re), so
// frames are stamped when they are actually produced, and both come from
// ONE lavfi graph: with two lavfi inputs ffmpeg starts the audio about
// 0.3 s after the video and then holds every video frame back until audio
// of the same timestamp exists (measured: capture to RTMP arrival 0.3 s
// with two inputs, about one frame with one graph).
func clockSourceArgs(midnight time.Time, rtmpURL string) []string {
	return []string{"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", clockFilter(midnight) + "[out0];sine=frequency=440:sample_rate=48000,arealtime[out1]",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-bf", "0",
		"-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "2500k",
		"-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
		"-f", "flv", rtmpURL}
}

// errNoClock reports a picture where the clock blocks cannot be read.
var errNoClock = errors.New("no readable clock blocks")

// decodeClock reads the clock blocks from img, where rect is the area the
// 1280x720 picture occupies in img (the whole image for a decoded frame,
// the video's content box for a page screenshot). It returns the capture
// time (midnight + the decoded milliseconds).
func decodeClock(img image.Image, rect image.Rectangle, midnight time.Time) (time.Time, error) {
	if rect.Dx() < 200 || rect.Dy() < 100 {
		return time.Time{}, fmt.Errorf("%w: picture area %v too small", errNoClock, rect)
	}
	at := func(x, y float64) float64 {
		px := rect.Min.X + int(x/srcW*float64(rect.Dx()))
		py := rect.Min.Y + int(y/srcH*float64(rect.Dy()))
		// Average a small patch: scaled, compressed pictures are noisy.
		sum, n := 0.0, 0
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				p := image.Pt(px+dx, py+dy)
				if !p.In(img.Bounds()) {
					continue
				}
				r, g, b, _ := img.At(p.X, p.Y).RGBA()
				sum += float64(r+g+b) / 3 / 0xffff
				n++
			}
		}
		if n == 0 {
			return -1
		}
		return sum / float64(n)
	}
	cy := float64(clockBlockY + clockBlockH/2)
	if v := at(float64(sentinelX()+clockBlockW/2), cy); v < 0.75 {
		return time.Time{}, fmt.Errorf("%w: sentinel block not white (%.2f)", errNoClock, v)
	}
	if v := at(float64(clockBlockX+clockBlockW/2), float64(clockBlockY-6)); v < 0 || v > 0.25 {
		return time.Time{}, fmt.Errorf("%w: strip not black (%.2f)", errNoClock, v)
	}
	var msec int64
	for i := range clockBits {
		v := at(float64(clockBlockX+i*clockBlockW+clockBlockW/2), cy)
		switch {
		case v > 0.75:
			msec |= 1 << i
		case v >= 0.25:
			return time.Time{}, fmt.Errorf("%w: bit %d is neither black nor white (%.2f)", errNoClock, i, v)
		}
	}
	return midnight.Add(time.Duration(msec) * time.Millisecond), nil
}

// readPNG decodes a PNG file.
func readPNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return img, nil
}

// utcMidnight returns 00:00 UTC of t's day.
func utcMidnight(t time.Time) time.Time {
	u := t.UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
}
