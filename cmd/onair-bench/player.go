package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// shotScript takes timed screenshots of the player page (see its header).
//
//go:embed shot.mjs
var shotScript []byte

// playResult is the part of test/player/play.mjs's JSON the bench uses.
type playResult struct {
	OK        bool      `json:"ok"`
	Reason    string    `json:"reason"`
	StartupMS int       `json:"startup_ms"`
	Stalls    int       `json:"stalls"`
	Latency   []float64 `json:"latency_s"`
	Harness   string    `json:"harness_error"`
}

// runNode runs a node script to completion (bounded by timeout) and
// returns its stdout.
func (b *bench) runNode(ctx context.Context, name string, argv []string, timeout time.Duration) ([]byte, error) {
	var out bytes.Buffer
	p, err := b.procs.start(name, argv, startOpts{Dir: b.repo, Stdout: &out})
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := p.wait(wctx); err != nil {
		_ = p.stop(8 * time.Second)
		return nil, fmt.Errorf("%s: %w\n%s", name, err, p.tail(5))
	}
	p.forget()
	return out.Bytes(), nil
}

// lastJSONLine returns the last line of out that looks like a JSON object.
func lastJSONLine(out []byte) []byte {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); strings.HasPrefix(l, "{") {
			return []byte(l)
		}
	}
	return nil
}

// playerLatency plays url with test/player/play.mjs and returns its
// result and the command.
func (b *bench) playerLatency(ctx context.Context, url string) (playResult, string, error) {
	seconds := min(20, b.seconds)
	argv := []string{"node", "test/player/play.mjs", "--url", url, "--seconds", strconv.Itoa(seconds)}
	out, err := b.runNode(ctx, "node-play", argv, time.Duration(seconds+90)*time.Second)
	if err != nil {
		return playResult{}, "", err
	}
	var r playResult
	if err := json.Unmarshal(lastJSONLine(out), &r); err != nil {
		return playResult{}, "", fmt.Errorf("play.mjs output: %w: %s", err, out)
	}
	if r.Harness != "" {
		return playResult{}, "", fmt.Errorf("play.mjs harness error: %s", r.Harness)
	}
	return r, shellQuote(argv), nil
}

// shot is one screenshot with the times read from it.
type shot struct {
	file       string
	taken      time.Time     // midpoint of before/after page.screenshot
	spread     time.Duration // half the before/after gap
	capture    time.Time     // the clock blocks of the displayed picture
	hlsLatency float64       // hls.js latency just before, seconds
	err        error         // the clock could not be read
}

// screenshots takes three timed screenshots of the playing page and reads
// the capture time of the displayed picture from each.
func (b *bench) screenshots(ctx context.Context, url string, midnight time.Time) ([]shot, string, error) {
	if b.shots == "" {
		dir, err := os.MkdirTemp("", "onair-bench-shots-")
		if err != nil {
			return nil, "", fmt.Errorf("screenshot dir: %w", err)
		}
		b.shots = dir
	}
	script := filepath.Join(b.tmp, "shot.mjs")
	if err := os.WriteFile(script, shotScript, 0o644); err != nil {
		return nil, "", fmt.Errorf("write shot.mjs: %w", err)
	}
	argv := []string{"node", script, "--web", filepath.Join(b.repo, "web"), "--url", url, "--out", b.shots, "--shots", "3", "--warmup", "4"}
	out, err := b.runNode(ctx, "node-shot", argv, 150*time.Second)
	if err != nil {
		return nil, "", err
	}
	var r struct {
		OK     bool   `json:"ok"`
		Reason string `json:"reason"`
		Shots  []struct {
			File     string   `json:"file"`
			BeforeMS int64    `json:"before_ms"`
			AfterMS  int64    `json:"after_ms"`
			Latency  *float64 `json:"latency_s"`
			Box      struct {
				X, Y, W, H float64
			} `json:"box"`
		} `json:"shots"`
	}
	if err := json.Unmarshal(lastJSONLine(out), &r); err != nil {
		return nil, "", fmt.Errorf("shot.mjs output: %w: %s", err, out)
	}
	if !r.OK {
		return nil, "", fmt.Errorf("shot.mjs: %s", r.Reason)
	}
	var shots []shot
	for _, s := range r.Shots {
		before, after := time.UnixMilli(s.BeforeMS), time.UnixMilli(s.AfterMS)
		sh := shot{file: s.File, taken: before.Add(after.Sub(before) / 2), spread: after.Sub(before) / 2, hlsLatency: math.NaN()}
		if s.Latency != nil {
			sh.hlsLatency = *s.Latency
		}
		img, err := readPNG(s.File)
		if err != nil {
			sh.err = err
		} else {
			box := image.Rect(int(math.Round(s.Box.X)), int(math.Round(s.Box.Y)), int(math.Round(s.Box.X+s.Box.W)), int(math.Round(s.Box.Y+s.Box.H)))
			sh.capture, sh.err = decodeClock(img, box, midnight)
		}
		shots = append(shots, sh)
	}
	// The command as a reader would run it from the repository root.
	show := append([]string{"node", "cmd/onair-bench/shot.mjs"}, argv[2:]...)
	show[3] = "web"
	return shots, shellQuote(show), nil
}

// pdtCheck compares one segment's PROGRAM-DATE-TIME with the capture time
// of its first frame.
type pdtCheck struct {
	uri     string
	pdt     time.Time
	capture time.Time
	err     error
}

// pdtOffsets decodes the first frame of the two newest complete source
// segments of channel and reads its capture time.
func (b *bench) pdtOffsets(ctx context.Context, srv *onairServer, channel string, midnight time.Time, dir string) ([]pdtCheck, error) {
	base := "/live/" + channel + "/source/"
	code, _, pl := srv.get(ctx, base+"index.m3u8")
	if code != 200 {
		return nil, fmt.Errorf("source playlist: HTTP %d", code)
	}
	segs := parseMediaSegments(string(pl))
	if len(segs) < 2 {
		return nil, fmt.Errorf("source playlist lists %d complete segments, want 2", len(segs))
	}
	code, _, initSeg := srv.get(ctx, base+"init.mp4")
	if code != 200 {
		return nil, fmt.Errorf("source init segment: HTTP %d", code)
	}
	var out []pdtCheck
	for _, s := range segs[len(segs)-2:] {
		c := pdtCheck{uri: s.URI, pdt: s.PDT}
		code, _, data := srv.get(ctx, base+s.URI)
		if code != 200 {
			c.err = fmt.Errorf("HTTP %d", code)
			out = append(out, c)
			continue
		}
		mp4 := filepath.Join(dir, "seg-"+s.URI+".mp4")
		pngPath := filepath.Join(dir, "seg-"+s.URI+".png")
		if err := os.WriteFile(mp4, append(append([]byte(nil), initSeg...), data...), 0o644); err != nil {
			return nil, fmt.Errorf("write segment: %w", err)
		}
		argv := []string{"ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-i", mp4, "-frames:v", "1", "-y", pngPath}
		if err := b.procs.run(ctx, "ffmpeg-frame", argv, startOpts{}); err != nil {
			c.err = err
		} else if img, err := readPNG(pngPath); err != nil {
			c.err = err
		} else {
			c.capture, c.err = decodeClock(img, img.Bounds(), midnight)
		}
		out = append(out, c)
	}
	return out, nil
}
