package detect

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// buildArgs returns ffmpeg's arguments (without the program name) for a
// run that decodes video and/or audio from the live Matroska stream on
// standard input (see feeder).
// It is a pure function of its arguments.
//
// Everything runs on one thread: the decoder's frame threads would hold
// frames back and a second core is not ours to take. Each chain ends with
// a metadata print (see parseLine); -loglevel repeat+info keeps ffmpeg
// from folding identical consecutive lines into "repeated N times".
func buildArgs(cfg Config, video, audio bool) []string {
	// With SampleKeyframes only keyframes are fed (see Detector.Write), so
	// the decoder needs no -skip_frame.
	args := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "repeat+info", "-threads", "1"}
	args = append(args,
		// Start at once: no frame-rate probing, no probe buffer to fill.
		"-probesize", "32", "-fpsprobesize", "0", "-analyzeduration", "0",
		// Filter timestamps stay those Go wrote, so log times map back to
		// the channel clock.
		"-copyts",
		"-f", "matroska", "-i", "pipe:0",
		"-filter_complex_threads", "1")
	var chains, maps []string
	if video {
		var f []string
		if cfg.Black > 0 {
			// d=0: mark every black run at its first frame; the tracker
			// applies the duration live (blackdetect itself reports a run
			// only when it ends).
			f = append(f, fmt.Sprintf("blackdetect=d=0:pix_th=%s:pic_th=%s",
				num(cfg.BlackPixelThreshold), num(cfg.BlackPictureRatio)))
		}
		if cfg.Frozen > 0 {
			f = append(f, fmt.Sprintf("freezedetect=n=%s:d=%s", num(cfg.FreezeNoise), seconds(cfg.Frozen)))
		}
		f = append(f, "metadata=mode=add:key="+endKey+":value=1", printVideo+"=mode=print")
		chains = append(chains, "[0:v:0]"+strings.Join(f, ",")+"[v]")
		maps = append(maps, "-map", "[v]")
	}
	if audio {
		f := []string{
			// 4800-sample frames (100 ms at 48 kHz): a fifth of the AAC
			// frame rate to filter and print; silencedetect counts samples,
			// so only its report moves, by at most one frame.
			"asetnsamples=n=4800:p=0",
			fmt.Sprintf("silencedetect=n=%sdB:d=%s", num(cfg.SilenceNoiseDB), seconds(cfg.Silent)),
			"ametadata=mode=add:key=" + endKey + ":value=1", printAudio + "=mode=print",
		}
		chains = append(chains, "[0:a:0]"+strings.Join(f, ",")+"[a]")
		maps = append(maps, "-map", "[a]")
	}
	args = append(args, "-filter_complex", strings.Join(chains, ";"))
	args = append(args, maps...)
	return append(args, "-f", "null", "-")
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func seconds(d time.Duration) string { return num(d.Seconds()) }
