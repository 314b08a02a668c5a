package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

const segSeconds = 2.0 // the default segment duration D

// variants parses a multivariant playlist into rendition name -> RESOLUTION.
func variants(master string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(master))
	res := ""
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#EXT-X-STREAM-INF:") {
			res = ""
			if m := regexp.MustCompile(`RESOLUTION=(\d+x\d+)`).FindStringSubmatch(line); m != nil {
				res = m[1]
			}
			continue
		}
		if line != "" && !strings.HasPrefix(line, "#") {
			out[strings.TrimSuffix(line, "/index.m3u8")] = res
		}
	}
	return out
}

// completeSegments returns the numbers of complete segments in a media
// playlist (EXTINF entries that are not gaps).
func completeSegments(playlist string) []int64 {
	var out []int64
	gap := false
	for _, line := range strings.Split(playlist, "\n") {
		switch {
		case strings.HasPrefix(line, "#EXT-X-GAP"):
			gap = true
		case strings.HasSuffix(line, ".m4s") && !strings.HasPrefix(line, "#"):
			n, err := strconv.ParseInt(strings.TrimSuffix(line, ".m4s"), 10, 64)
			if err == nil && !gap {
				out = append(out, n)
			}
			gap = false
		}
	}
	return out
}

// waitSegment waits until every rendition of a channel lists segment n
// as complete.
func waitSegment(t *testing.T, base, ch string, renditions []string, n int64, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, fmt.Sprintf("segment %d in %v", n, renditions), func() bool {
		for _, r := range renditions {
			code, _, b := get(fmt.Sprintf("%s/live/%s/%s/index.m3u8", base, ch, r))
			if code != 200 {
				return false
			}
			segs := completeSegments(string(b))
			if len(segs) == 0 || segs[len(segs)-1] < n {
				return false
			}
		}
		return true
	})
}

// firstPacket returns the first packet's pts (seconds) and key flag of
// init + segment n of a rendition, read by ffprobe from a file.
func firstPacket(t *testing.T, base, ch, r string, n int64) (float64, bool, int) {
	t.Helper()
	var buf bytes.Buffer
	for _, name := range []string{"init.mp4", fmt.Sprintf("%d.m4s", n)} {
		code, _, b := get(fmt.Sprintf("%s/live/%s/%s/%s", base, ch, r, name))
		if code != 200 {
			t.Fatalf("%s/%s: status %d", r, name, code)
		}
		buf.Write(b)
	}
	f := filepath.Join(t.TempDir(), r+".mp4")
	if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0", f).Output()
	if err != nil {
		t.Fatalf("ffprobe %s segment %d: %v", r, n, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	fields := strings.Split(lines[0], ",")
	pts, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		t.Fatalf("ffprobe output %q", lines[0])
	}
	return pts, strings.HasPrefix(fields[1], "K"), len(lines)
}

// checkAligned asserts the channel-clock rule for segment n: every video
// rendition starts on a keyframe at n*D (within one frame), audio within
// one AAC frame.
func checkAligned(t *testing.T, base, ch string, video []string, n int64, fps float64) {
	t.Helper()
	want := float64(n) * segSeconds
	for _, r := range video {
		pts, key, packets := firstPacket(t, base, ch, r, n)
		if !key {
			t.Errorf("%s segment %d does not start on a keyframe", r, n)
		}
		if math.Abs(pts-want) > 1/fps+1e-6 {
			t.Errorf("%s segment %d starts at %.6f s, want %.3f s (within one frame)", r, n, pts, want)
		}
		if wantPackets := int(segSeconds * fps); packets < wantPackets-1 || packets > wantPackets+1 {
			t.Errorf("%s segment %d has %d frames, want %d", r, n, packets, wantPackets)
		}
	}
	pts, _, _ := firstPacket(t, base, ch, "audio", n)
	if math.Abs(pts-want) > 1024.0/48000+1e-6 {
		t.Errorf("audio segment %d starts at %.6f s, want %.3f s (within one AAC frame)", n, pts, want)
	}
}

// decode reads a playlist/MPD URL with the real ffmpeg for a few seconds
// of every stream and fails on any decode error.
func decode(t *testing.T, url string, extra ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"-v", "error", "-nostdin", "-i", url}, extra...)
	args = append(args, "-t", "3", "-f", "null", "-")
	out, err := exec.CommandContext(ctx, "ffmpeg", args...).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("ffmpeg decoding %s: %v\n%s", url, err, out)
	}
}

// probeStreams lists "codec WxH" for every stream ffprobe finds at url.
func probeStreams(t *testing.T, url string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", url, err)
	}
	var streams []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			streams = append(streams, l)
		}
	}
	return streams
}
