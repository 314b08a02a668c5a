package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"onair/internal/control"
	"onair/internal/proc"
)

// DemoChannel is the name of the channel --demo creates and feeds.
const DemoChannel = "demo"

// demoFont is used for the burnt-in clock when present (Debian's
// fonts-dejavu-core); otherwise drawtext falls back to fontconfig.
const demoFont = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"

// demoArgs returns the ffmpeg arguments of the synthetic demo source: a
// 1280x720 30 fps test pattern with the UTC wall clock burnt in to the
// millisecond (the frame's timestamp plus the time of day at start; with -re
// that is the capture time, so capture-to-display latency can be read off a
// screenshot) and a tone, encoded like a typical OBS setup (keyframe every
// 2 s) and pushed over RTMP.
func demoArgs(rtmpURL string, start time.Time) []string {
	return append(demoInputs(start),
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-bf", "0", "-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "2500k",
		"-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
		"-f", "flv", rtmpURL,
	)
}

// demoInputs returns the lavfi inputs of the demo source.
func demoInputs(start time.Time) []string {
	font := ""
	if _, err := os.Stat(demoFont); err == nil {
		font = "fontfile=" + demoFont + ":"
	}
	u := start.UTC()
	midnight := time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
	sinceMidnight := u.Sub(midnight).Seconds()
	// Filtergraph escaping: "\\\:" reaches drawtext as "\:" and
	// its expansion as ":".
	clock := fmt.Sprintf(`drawtext=%sfontsize=56:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=12:x=40:y=40:text=%%{pts\\\:hms\\\:%.3f} UTC`, font, sinceMidnight)
	label := "drawtext=" + font + "fontsize=32:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=8:x=40:y=h-80:text=onair demo  frame %{n}"
	return []string{
		"-hide_banner", "-loglevel", "warning", "-nostdin",
		"-re", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30," + clock + "," + label,
		"-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:beep_factor=4",
	}
}

// runDemo makes sure the demo channel exists and feeds it until ctx ends,
// restarting the source with backoff if it dies.
func runDemo(ctx context.Context, ffmpeg string, chans *channels, addrs Addrs, log *slog.Logger) error {
	if addrs.RTMP == nil {
		return errors.New("demo: needs the RTMP listener (rtmp.listen is empty)")
	}
	base := "http://" + net.JoinHostPort("localhost", port(addrs.HTTP))
	ch, err := chans.CreateChannel(ctx, control.ChannelSpec{Name: DemoChannel}, base)
	if errors.Is(err, control.ErrConflict) {
		ch, err = chans.SetChannelEnabled(ctx, DemoChannel, true, base)
	}
	if err != nil {
		return fmt.Errorf("demo: channel: %w", err)
	}
	fmt.Fprintf(os.Stderr, "\n  onair demo is running\n  dashboard:  %s/\n  watch:      %s\n  HLS:        %s\n  DASH:       %s\n\n",
		base, ch.Playback.Page, ch.Playback.HLS, ch.Playback.DASH)
	url := fmt.Sprintf("rtmp://%s/live/%s", net.JoinHostPort("127.0.0.1", port(addrs.RTMP)), ch.Ingest.StreamKey)
	bo := proc.Backoff{Min: time.Second, Max: 10 * time.Second}
	for {
		p, err := proc.Start(ctx, proc.Config{Path: ffmpeg, Args: demoArgs(url, time.Now())})
		if err != nil {
			return fmt.Errorf("demo: start ffmpeg: %w", err)
		}
		log.Info("demo source publishing", "channel", DemoChannel, "pid", p.Pid())
		werr := p.Wait(ctx)
		if ctx.Err() != nil {
			return nil
		}
		ran := time.Since(p.StartedAt())
		log.Warn("demo source exited; restarting", "channel", DemoChannel, "ran", ran.Round(time.Millisecond), "err", werr)
		if err := bo.Wait(ctx, ran); err != nil {
			return nil
		}
	}
}
