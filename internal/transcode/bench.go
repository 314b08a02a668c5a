package transcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"onair/internal/media"
	"onair/internal/proc"
)

// Bench reports how fast this machine runs cfg's ladder for a source like
// src: it encodes a synthetic clip (testsrc2 of src's size and rate, dur
// long) to MPEG-TS in a temporary directory, then times ffmpeg with the
// exact arguments the pipeline uses, reading the clip as fast as it can.
// The result is media time per wall time: below 1 the ladder cannot run
// live on this machine.
func Bench(ctx context.Context, cfg Config, src media.Track, dur time.Duration) (float64, error) {
	cfg = cfg.withDefaults()
	if cfg.Grid.Segment <= 0 {
		cfg.Grid = media.Grid{Segment: 2 * time.Second, Part: 500 * time.Millisecond}
	}
	if src.Width <= 0 || src.Height <= 0 || src.FPS <= 0 || dur <= 0 {
		return 0, errors.New("bench: source width, height, fps and duration must be positive")
	}
	ladder := media.Fit(cfg.Ladder, src)
	if len(ladder) == 0 {
		return 0, errors.New("bench: no ladder rendition fits the source")
	}
	dir, err := os.MkdirTemp("", "onair-bench-")
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(dir)
	clip := filepath.Join(dir, "clip.ts")
	gen := []string{"-hide_banner", "-nostdin", "-loglevel", "error",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=%s", src.Width, src.Height, strconv.FormatFloat(src.FPS, 'f', -1, 64)),
		"-t", strconv.FormatFloat(dur.Seconds(), 'f', -1, 64),
		"-c:v", "libx264", "-preset", "ultrafast", "-bf", "0", "-pix_fmt", "yuv420p",
		"-f", "mpegts", clip}
	if err := runFFmpeg(ctx, cfg.FFmpeg, gen, 0); err != nil {
		return 0, fmt.Errorf("bench: generate clip: %w", err)
	}
	args := BuildArgs(Args{Source: src, Renditions: ladder, Segment: cfg.Grid.Segment,
		LowLatency: cfg.LowLatency, Threads: cfg.Threads, Input: clip})
	start := time.Now()
	if err := runFFmpeg(ctx, cfg.FFmpeg, args, len(ladder)); err != nil {
		return 0, fmt.Errorf("bench: encode: %w", err)
	}
	return dur.Seconds() / time.Since(start).Seconds(), nil
}

// runFFmpeg runs ffmpeg to completion with outputs pipes drained to
// io.Discard.
func runFFmpeg(ctx context.Context, ffmpeg string, args []string, outputs int) error {
	rs := make([]*os.File, outputs)
	ws := make([]*os.File, outputs)
	for i := range outputs {
		r, w, err := os.Pipe()
		if err != nil {
			closeFiles(rs)
			closeFiles(ws)
			return err
		}
		rs[i], ws[i] = r, w
	}
	p, err := proc.Start(ctx, proc.Config{Path: ffmpeg, Args: args, ExtraFiles: ws})
	if err != nil {
		closeFiles(rs)
		return err
	}
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Go(func() {
			_, _ = io.Copy(io.Discard, r)
			_ = r.Close()
		})
	}
	err = p.Wait(context.WithoutCancel(ctx)) // ctx cancel stops p, so this returns
	wg.Wait()
	return err
}
