package control

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// kvRows is a two-column "label  value" listing aligned across sections
// (tabwriter would realign after every blank line).
type kvRows struct {
	rows [][2]string // label (with indent), value; both empty for a blank line
}

func (k *kvRows) add(indent int, label, value string) {
	k.rows = append(k.rows, [2]string{strings.Repeat("  ", indent) + label, value})
}

func (k *kvRows) blank() { k.rows = append(k.rows, [2]string{}) }

func (k *kvRows) write(w io.Writer) {
	width := 0
	for _, r := range k.rows {
		width = max(width, len(r[0]))
	}
	for _, r := range k.rows {
		if r[1] == "" {
			fmt.Fprintln(w, r[0])
			continue
		}
		fmt.Fprintf(w, "%-*s  %s\n", width, r[0], r[1])
	}
}

// printChannel writes a channel for an operator: state, ingest settings
// ready to paste into an encoder, playback URLs, then live details.
func printChannel(w io.Writer, ch Channel) {
	var k kvRows
	enabled := "enabled"
	if !ch.Enabled {
		enabled = "disabled"
	}
	k.add(0, "Channel", ch.Name)
	k.add(1, "state", fmt.Sprintf("%s (%s)", ch.State, enabled))
	k.add(1, "low latency", yesNo(ch.LowLatency))
	if !ch.CreatedAt.IsZero() {
		k.add(1, "created", formatTime(ch.CreatedAt))
	}
	k.blank()

	k.add(0, "Ingest", "(keep the stream key and passphrase secret)")
	k.add(1, "RTMP URL", orDash(ch.Ingest.RTMPURL))
	if server, ok := strings.CutSuffix(ch.Ingest.RTMPURL, "/"+ch.Ingest.StreamKey); ok && ch.Ingest.StreamKey != "" {
		k.add(2, "server", server)
	}
	k.add(2, "stream key", orDash(ch.Ingest.StreamKey))
	if ch.Ingest.SRTURL != "" {
		k.add(1, "SRT URL", ch.Ingest.SRTURL)
		k.add(2, "stream id", orDash(ch.Ingest.SRTStreamID))
		k.add(2, "passphrase", orDash(ch.Ingest.SRTPassphrase))
	}
	if b := ch.BackupIngest; b.StreamKey != "" {
		k.add(1, "backup RTMP URL", orDash(b.RTMPURL))
		k.add(2, "stream key", b.StreamKey)
		if b.SRTURL != "" {
			k.add(1, "backup SRT URL", b.SRTURL)
		}
	}
	if in := ch.Inputs; in != nil {
		active := orDash(in.Active)
		if in.Pending != "" {
			active += ", switching to " + in.Pending
		}
		if in.Manual != "" {
			active += " (chosen: " + in.Manual + ")"
		}
		k.add(1, "active input", active)
	}
	k.blank()

	k.add(0, "Playback", "")
	k.add(1, "HLS", orDash(ch.Playback.HLS))
	k.add(1, "DASH", orDash(ch.Playback.DASH))
	k.add(1, "player page", orDash(ch.Playback.Page))

	if in := ch.Input; in != nil {
		k.blank()
		k.add(0, "Input", fmt.Sprintf("%s, since %s", orDash(in.Source), formatTime(in.Since)))
		k.add(1, "video", formatVideo(in.Codec, in.Width, in.Height, in.FPS, in.Bitrate))
		if a := in.Audio; a != nil {
			k.add(1, "audio", fmt.Sprintf("%s %d Hz, %d ch", a.Codec, a.SampleRate, a.Channels))
		}
		if !in.LastFrame.IsZero() {
			k.add(1, "last frame", formatAgo(time.Since(in.LastFrame)))
		}
	}
	if t := ch.Transcoder; t != nil {
		k.blank()
		s := t.State
		if t.PID > 0 {
			s += fmt.Sprintf(", pid %d", t.PID)
		}
		s += fmt.Sprintf(", %d %s", t.Restarts, plural(t.Restarts, "restart", "restarts"))
		if t.Speed > 0 {
			s += fmt.Sprintf(", speed %.2fx", t.Speed)
		}
		k.add(0, "Transcoder", s)
		if t.LastError != "" {
			k.add(1, "last error", t.LastError)
		}
	}
	if len(ch.Pipelines) > 0 {
		k.blank()
		k.add(0, "Pipelines", ch.Mode+", active "+ch.ActivePipeline)
		for _, p := range ch.Pipelines {
			s := p.Role + ", " + p.State
			if p.EncoderDown != "" {
				s += ", encoder down: " + p.EncoderDown
			}
			if p.ManifestAgeSeconds != nil {
				s += fmt.Sprintf(", manifest age %.1f s", *p.ManifestAgeSeconds)
			}
			k.add(1, p.Name, s+", storage "+p.StoragePrefix)
		}
	}
	k.write(w)

	if len(ch.Renditions) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Renditions")
		rt := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(rt, "  NAME\tSIZE\tFPS\tBANDWIDTH\tCODECS\tLAST SEGMENT\tPLAYLIST AGE")
		for _, r := range ch.Renditions {
			seg := "-"
			if r.LastSegment != nil {
				seg = strconv.FormatInt(*r.LastSegment, 10)
			}
			fmt.Fprintf(rt, "  %s\t%s\t%s\t%s\t%s\t%s\t%.1f s\n", r.Name, formatSize(r.Width, r.Height),
				formatFPS(r.FPS), formatBitrate(r.Bandwidth), orDash(r.Codecs), seg, r.ManifestAgeSeconds)
		}
		rt.Flush()
	}
}

// printChannelList writes one line per channel.
func printChannelList(w io.Writer, chans []Channel) {
	if len(chans) == 0 {
		fmt.Fprintln(w, "no channels (create one with: onair channel create NAME)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tINPUT\tRENDITIONS\tHLS")
	for _, ch := range chans {
		input := "-"
		if in := ch.Input; in != nil {
			input = formatVideo("", in.Width, in.Height, in.FPS, in.Bitrate)
		}
		rend := "-"
		if n := len(ch.Renditions); n > 0 {
			rend = strconv.Itoa(n)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ch.Name, ch.State, input, rend, orDash(ch.Playback.HLS))
	}
	tw.Flush()
}

// formatVideo renders "h264 1920x1080 30 fps, 6.0 Mb/s", leaving out what
// is unknown.
func formatVideo(codec string, width, height int, fps float64, bitrate int64) string {
	var parts []string
	if codec != "" {
		parts = append(parts, codec)
	}
	if width > 0 && height > 0 {
		parts = append(parts, formatSize(width, height))
	}
	if fps > 0 {
		parts = append(parts, formatFPS(fps)+" fps")
	}
	s := strings.Join(parts, " ")
	if bitrate > 0 {
		if s != "" {
			s += ", "
		}
		s += formatBitrate(bitrate)
	}
	return orDash(s)
}

func formatSize(width, height int) string {
	if width <= 0 || height <= 0 {
		return "-"
	}
	return fmt.Sprintf("%dx%d", width, height)
}

// formatFPS prints whole rates without decimals and others like 29.97.
func formatFPS(fps float64) string {
	switch {
	case fps <= 0:
		return "-"
	case math.Abs(fps-math.Round(fps)) < 0.005:
		return strconv.Itoa(int(math.Round(fps)))
	default:
		return strconv.FormatFloat(fps, 'f', 2, 64)
	}
}

// formatBitrate prints bits per second in kb/s or Mb/s (SI units, as
// encoders and HLS BANDWIDTH use).
func formatBitrate(bps int64) string {
	switch {
	case bps <= 0:
		return "-"
	case bps >= 1_000_000:
		return fmt.Sprintf("%.1f Mb/s", float64(bps)/1e6)
	case bps >= 1_000:
		return fmt.Sprintf("%d kb/s", (bps+500)/1000)
	default:
		return fmt.Sprintf("%d b/s", bps)
	}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05 MST")
}

func formatAgo(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < time.Minute {
		return fmt.Sprintf("%.1f s ago", d.Seconds())
	}
	return d.Round(time.Second).String() + " ago"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
