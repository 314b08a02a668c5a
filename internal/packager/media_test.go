package packager

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"onair/internal/media"
)

// Test media comes from real encoders: small lavfi clips encoded by ffmpeg
// in a temporary directory.

func ffmpeg(t testing.TB, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg is required for these tests: %v", err)
	}
	cmd := exec.Command(bin, append([]string{"-v", "error", "-nostdin", "-y"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// accessUnit is one encoded video frame in decode order.
type accessUnit struct {
	nalus [][]byte
	key   bool
	pts   int64 // set only by readTS
	dts   int64
}

// encodeVideo encodes seconds of testsrc2 with codec ("libx264" or
// "libx265") at fps with a keyframe every gop frames and no B-frames, and
// returns the access units (delimited by AUDs).
func encodeVideo(t testing.TB, codec string, size string, seconds float64, fps, gop int) []accessUnit {
	t.Helper()
	out := filepath.Join(t.TempDir(), "v.es")
	args := []string{"-f", "lavfi", "-i", "testsrc2=size=" + size + ":rate=" + strconv.Itoa(fps), "-t", strconv.FormatFloat(seconds, 'f', -1, 64),
		"-c:v", codec, "-preset", "ultrafast", "-g", strconv.Itoa(gop), "-keyint_min", strconv.Itoa(gop), "-bf", "0"}
	format := "h264"
	if codec == "libx265" {
		format = "hevc"
		args = append(args, "-x265-params", "log-level=error:scenecut=0:aud=1:repeat-headers=1")
	} else {
		args = append(args, "-sc_threshold", "0", "-x264-params", "aud=1")
	}
	ffmpeg(t, append(args, "-f", format, out)...)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// Split the stream at access unit delimiters, then each access unit
	// into NAL units (AnnexB.Unmarshal caps the NAL units per call).
	aud := []byte{0, 0, 0, 1, 0x09}
	if codec == "libx265" {
		aud = []byte{0, 0, 0, 1, 0x46, 0x01}
	}
	var aus []accessUnit
	for _, chunk := range bytes.Split(b, aud) {
		if len(chunk) == 0 {
			continue
		}
		var nalus h264.AnnexB
		if err := nalus.Unmarshal(append(slices.Clone(aud), chunk...)); err != nil {
			t.Fatal(err)
		}
		au := accessUnit{nalus: nalus}
		for _, n := range nalus {
			if codec == "libx265" {
				typ := (n[0] >> 1) & 0x3f
				au.key = au.key || typ >= 16 && typ <= 21
			} else {
				au.key = au.key || n[0]&0x1f == 5
			}
		}
		aus = append(aus, au)
	}
	return aus
}

// encodeAAC encodes seconds of a sine at rate Hz to AAC-LC and returns its
// raw frames and AudioSpecificConfig.
func encodeAAC(t testing.TB, seconds float64, rate int) ([][]byte, []byte) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "a.aac")
	ffmpeg(t, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate="+strconv.Itoa(rate), "-t", strconv.FormatFloat(seconds, 'f', -1, 64),
		"-c:a", "aac", "-b:a", "64k", "-ac", "2", "-f", "adts", out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var pkts mpeg4audio.ADTSPackets
	if err := pkts.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	frames := make([][]byte, len(pkts))
	for i, p := range pkts {
		frames[i] = p.AU
	}
	cfg := mpeg4audio.AudioSpecificConfig{Type: pkts[0].Type, SampleRate: pkts[0].SampleRate, ChannelConfig: pkts[0].ChannelConfig, ChannelCount: 2}
	asc, err := cfg.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return frames, asc
}

// encodeBFrames encodes H.264 with B-frames through MPEG-TS, which keeps
// each frame's PTS and DTS.
func encodeBFrames(t testing.TB, seconds float64, fps, gop int) []accessUnit {
	t.Helper()
	out := filepath.Join(t.TempDir(), "v.ts")
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x180:rate="+strconv.Itoa(fps), "-t", strconv.FormatFloat(seconds, 'f', -1, 64),
		"-c:v", "libx264", "-preset", "ultrafast", "-g", strconv.Itoa(gop), "-keyint_min", strconv.Itoa(gop), "-sc_threshold", "0",
		"-bf", "2", "-x264-params", "b-pyramid=0", "-f", "mpegts", out)
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := &mpegts.Reader{R: f}
	if err := r.Initialize(); err != nil {
		t.Fatal(err)
	}
	var aus []accessUnit
	for _, tr := range r.Tracks() {
		if _, ok := tr.Codec.(*tscodecs.H264); ok {
			r.OnDataH264(tr, func(pts, dts int64, au [][]byte) error {
				aus = append(aus, accessUnit{nalus: au, key: h264.IsRandomAccess(au), pts: pts, dts: dts})
				return nil
			})
		}
	}
	for {
		if err := r.Read(); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatal(err)
		}
	}
	return aus
}

// videoUnits stamps access units at fps from channel time start (PTS =
// DTS; readTS units keep their own offsets relative to the first DTS).
func videoUnits(aus []accessUnit, fps int, start int64) []media.Unit {
	units := make([]media.Unit, len(aus))
	step := int64(media.Timescale / fps)
	for i, au := range aus {
		u := media.Unit{Kind: media.KindVideo, Key: au.key, NALUs: au.nalus, DTS: start + int64(i)*step}
		u.PTS = u.DTS
		if au.pts != 0 || au.dts != 0 {
			// Shift so that the first keyframe's PTS lands on start.
			u.DTS = au.dts - aus[0].pts + start
			u.PTS = au.pts - aus[0].pts + start
		}
		units[i] = u
	}
	return units
}

// audioUnits stamps AAC frames of 1024 samples at rate from channel time
// start, with timestamps rounded to whole milliseconds as RTMP delivers
// them.
func audioUnits(frames [][]byte, rate int, start int64) []media.Unit {
	units := make([]media.Unit, len(frames))
	for i, f := range frames {
		ms := (int64(i)*1024*1000 + int64(rate)/2) / int64(rate)
		ts := start + ms*90
		units[i] = media.Unit{Kind: media.KindAudio, Key: true, PTS: ts, DTS: ts, Audio: f}
	}
	return units
}

// h264Params returns the SPS and PPS of an access unit.
func h264Params(au accessUnit) (sps, pps []byte) {
	for _, n := range au.nalus {
		switch n[0] & 0x1f {
		case 7:
			sps = n
		case 8:
			pps = n
		}
	}
	return sps, pps
}

// withoutParams returns aus with SPS/PPS removed from every unit but the
// first.
func withoutParams(aus []accessUnit) []accessUnit {
	out := slices.Clone(aus)
	for i := 1; i < len(out); i++ {
		out[i].nalus = slices.DeleteFunc(slices.Clone(out[i].nalus), func(n []byte) bool {
			return n[0]&0x1f == 7 || n[0]&0x1f == 8
		})
	}
	return out
}

// ffprobeFrames decodes a file with ffmpeg (failing on any decode error)
// and returns the number of frames of its first stream.
func ffprobeFrames(t testing.TB, path string) int {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-v", "error", "-nostdin", "-i", path, "-f", "null", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg decode of %s: %v\n%s", filepath.Base(path), err, stderr.String())
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "0",
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(out)))
	if err != nil {
		t.Fatalf("ffprobe frame count %q: %v", out, err)
	}
	return n
}
