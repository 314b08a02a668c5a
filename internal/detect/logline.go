package detect

import (
	"math"
	"strconv"
	"strings"

	"onair/internal/media"
)

// Names of the metadata-print filter instances at the end of each chain
// (see buildArgs). ffmpeg prefixes their log lines with
// "[metadata@onair_video @ 0x...] ".
const (
	printVideo = "metadata@onair_video"
	printAudio = "ametadata@onair_audio"
	// endKey is added to every frame after the detectors ran, so it is the
	// last key printed for a frame: it closes the frame's block of lines.
	endKey = "onair.end"
)

// lineKind says what a log line carries.
type lineKind int

const (
	lineOther lineKind = iota // anything else ffmpeg writes
	lineFrame                 // "frame:N pts:P pts_time:T": a frame's block begins
	lineMeta                  // "key=value": one metadata entry of that frame
)

// logLine is one parsed line of ffmpeg's standard error.
type logLine struct {
	Kind  lineKind
	Track media.Kind // which chain printed it (video or audio)

	// Frame lines. PTS is in the filter link's time base (1/1000000 for
	// video read from the fed Matroska, 1/sample rate for audio); Time is the same
	// instant in seconds as ffmpeg printed it (six significant digits).
	// HasPTS is false for a frame without timestamp ("NOPTS").
	PTS    int64
	Time   float64
	HasPTS bool

	// Metadata lines.
	Key, Value string
}

// parseLine parses one line written by ffmpeg. Lines that are not from
// the Detector's print filters, or that are malformed, are lineOther.
func parseLine(s string) logLine {
	var track media.Kind
	var rest string
	for _, p := range []struct {
		prefix string
		kind   media.Kind
	}{{"[" + printVideo + " @ ", media.KindVideo}, {"[" + printAudio + " @ ", media.KindAudio}} {
		if r, ok := strings.CutPrefix(s, p.prefix); ok {
			track, rest = p.kind, r
			break
		}
	}
	if track == 0 {
		return logLine{}
	}
	_, body, ok := strings.Cut(rest, "] ")
	if !ok {
		return logLine{}
	}
	body = strings.TrimSpace(body)
	if strings.HasPrefix(body, "frame:") {
		return parseFrame(track, body)
	}
	key, value, ok := strings.Cut(body, "=")
	if !ok || key == "" || strings.ContainsAny(key, " \t") {
		return logLine{}
	}
	return logLine{Kind: lineMeta, Track: track, Key: key, Value: value}
}

// parseFrame parses "frame:12   pts:130920  pts_time:1.45467".
func parseFrame(track media.Kind, body string) logLine {
	l := logLine{Kind: lineFrame, Track: track}
	var havePTS, haveTime bool
	for f := range strings.FieldsSeq(body) {
		k, v, ok := strings.Cut(f, ":")
		if !ok {
			return logLine{}
		}
		switch k {
		case "frame":
			if _, err := strconv.ParseUint(v, 10, 63); err != nil {
				return logLine{}
			}
		case "pts":
			if v == "NOPTS" {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return logLine{}
			}
			l.PTS, havePTS = n, true
		case "pts_time":
			if v == "NOPTS" {
				continue
			}
			t, err := parseSeconds(v)
			if err != nil {
				return logLine{}
			}
			l.Time, haveTime = t, true
		}
	}
	l.HasPTS = havePTS && haveTime
	if !l.HasPTS {
		l.PTS, l.Time = 0, 0
	}
	return l
}

// errBadSeconds is returned by parseSeconds for anything but a finite
// number of seconds.
type errBadSeconds string

func (e errBadSeconds) Error() string { return "bad time " + strconv.Quote(string(e)) }

// parseSeconds parses a time as ffmpeg prints it (av_ts2timestr, "%.6g":
// "4.42133", "1e+06"). NaN, infinities and values beyond ±2^53 ticks are
// rejected.
func parseSeconds(s string) (float64, error) {
	t, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(t) || math.Abs(t) > 1<<53/media.Timescale {
		return 0, errBadSeconds(s)
	}
	return t, nil
}

// secondsToTicks converts seconds to 90 kHz ticks, rounding.
func secondsToTicks(t float64) int64 { return int64(math.Round(t * media.Timescale)) }
