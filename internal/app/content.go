package app

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"onair/internal/config"
	"onair/internal/detect"
	"onair/internal/media"
	"onair/internal/stream"
)

// contentChecks are a channel's content detectors, one per input, fed
// from the stream's tap; they tell the stream when an input's picture is
// black or frozen or its sound silent.
type contentChecks struct {
	dets map[stream.Input]*detect.Detector
}

// newContentChecks builds the detectors of channel name, or returns nil
// when no check is configured. set receives each input's verdict.
func (m *channels) newContentChecks(name string, in config.Inputs, set func(stream.Input, string)) (*contentChecks, error) {
	if !in.ContentChecks() {
		return nil, nil
	}
	c := &contentChecks{dets: map[stream.Input]*detect.Detector{}}
	for _, input := range []stream.Input{stream.Primary, stream.Backup} {
		cfg := detect.Config{Black: in.BlackAfter, Frozen: in.FrozenAfter, Silent: in.SilentAfter, FFmpeg: m.cfg.Transcode.FFmpeg}
		d, err := detect.New(cfg, detect.Deps{
			Log:      m.log.With("channel", name, "input", input, "role", "detect"),
			OnChange: func(st detect.State) { set(input, verdict(cfg, st)) },
		})
		if err != nil {
			return nil, fmt.Errorf("channel %s: content check: %w", name, err)
		}
		c.dets[input] = d
	}
	return c, nil
}

// verdict says in words what is wrong with the content ("" when nothing
// is known to be: an unknown state never causes a switch).
func verdict(cfg detect.Config, st detect.State) string {
	var bad []string
	if st.Black {
		bad = append(bad, fmt.Sprintf("black for %v", cfg.Black))
	}
	if st.Frozen && !st.Black {
		bad = append(bad, fmt.Sprintf("frozen for %v", cfg.Frozen))
	}
	if st.Silent {
		bad = append(bad, fmt.Sprintf("silent for %v", cfg.Silent))
	}
	return strings.Join(bad, ", ")
}

// run runs every detector until ctx ends.
func (c *contentChecks) run(ctx context.Context, log func(msg string, args ...any)) {
	var wg sync.WaitGroup
	for in, d := range c.dets {
		wg.Go(func() {
			if err := d.Run(ctx); err != nil {
				log("content check stopped", "input", in, "err", err)
			}
		})
	}
	wg.Wait()
}

// tap is stream.Config.Tap.
func (c *contentChecks) tap(in stream.Input, u *media.Unit) {
	if d := c.dets[in]; d != nil {
		d.Write(*u)
	}
}

// onInput is stream.Config.OnInput.
func (c *contentChecks) onInput(in stream.Input, video, audio *media.Track) {
	d := c.dets[in]
	switch {
	case d == nil:
	case video == nil:
		d.End()
	default:
		d.Start(video, audio)
	}
}
