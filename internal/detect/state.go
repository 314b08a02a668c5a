package detect

import (
	"fmt"
	"math"
	"strings"
	"time"

	"onair/internal/media"
)

// Mark is an instant of the input: a channel-clock PTS and the wall time
// at which the frame with that PTS reached ingest.
type Mark struct {
	PTS  int64 // 90 kHz ticks, channel clock
	Wall time.Time
}

// State is what a Detector knows about its input's content.
type State struct {
	// Known is false while no session runs, while ffmpeg is starting or
	// restarting, and when no decoded frame arrived for Config.Stale. An
	// unknown state sets no condition and is not Healthy.
	Known bool
	// Healthy is Known with no condition set.
	Healthy bool
	// The conditions, each set once it lasted its configured duration.
	Black, Frozen, Silent bool
	// Where each set condition began (zero when not set). The PTS comes
	// from ffmpeg's log, which prints six significant digits: after about
	// 2.7 hours of one ffmpeg run a Since PTS may be 10 ms off, after 27
	// hours 100 ms. Decisions are not affected (they use exact frame PTS).
	BlackSince, FrozenSince, SilentSince Mark
	// At is the newest decoded frame the state is based on (zero when
	// unknown).
	At Mark
}

// condition indexes the tracked conditions.
type condition int

const (
	condBlack condition = iota
	condFrozen
	condSilent
	numConds
)

// String returns the condition's metric label.
func (c condition) String() string {
	switch c {
	case condBlack:
		return "black"
	case condFrozen:
		return "frozen"
	case condSilent:
		return "silent"
	}
	return "unknown"
}

// condState is one condition on the timeline fed to ffmpeg.
type condState struct {
	active bool
	since  int64 // fed ticks where the condition began
}

// frameBlock collects the metadata lines of one frame until its end key.
type frameBlock struct {
	open         bool
	ticks        int64
	hasPTS       bool
	blackStart   bool
	blackEnd     bool
	freezeStart  bool
	freezeEnd    bool
	silenceStart bool
	silenceEnd   bool
	startAt      int64 // value of a freeze_start or silence_start, fed ticks
	startValid   bool
}

// tracker turns the parsed log lines of one ffmpeg run into condition
// state. All times are 90 kHz ticks on the timeline fed to ffmpeg.
// blackdetect runs with d=0 and marks the first black frame; the tracker
// sets Black once frames have stayed black for blackMin (blackdetect's
// black_min_duration, applied live). freezedetect and silencedetect get
// their durations from the argv and report when they are reached.
type tracker struct {
	blackMin int64 // ticks; 0: black detection is off

	cond         [numConds]condState
	blackPending bool
	blackStart   int64

	video, audio frameBlock
	// Last completed frame of each track.
	lastVideo, lastAudio int64
	seenVideo, seenAudio bool
}

func newTracker(blackMin time.Duration) *tracker {
	return &tracker{blackMin: durationTicks(blackMin)}
}

func durationTicks(d time.Duration) int64 {
	return int64(d) * media.Timescale / int64(time.Second)
}

// frameTicks returns a frame line's time in 90 kHz ticks: exact from the
// integer PTS when the link's time base is the fed stream's (1/1000000,
// Matroska in microseconds, see feeder) or 1/90000, else from the printed
// seconds (audio links count samples).
func frameTicks(l logLine) int64 {
	byTime := secondsToTicks(l.Time)
	// pts_time has six significant digits: allow for its rounding.
	tol := int64(math.Abs(l.Time)*media.Timescale*1e-5) + 2
	near := func(t int64) bool { return t-byTime >= -tol && t-byTime <= tol }
	if l.PTS >= 0 && l.PTS < math.MaxInt64/9 {
		if t := microsToTicks(l.PTS); near(t) {
			return t
		}
	}
	if near(l.PTS) {
		return l.PTS
	}
	return byTime
}

// microsToTicks converts microseconds to 90 kHz ticks, rounding.
func microsToTicks(us int64) int64 { return (us*9 + 50) / 100 }

// feed applies one line. It returns the track of a frame that completed
// (0 if none) and whether a condition changed.
func (t *tracker) feed(l logLine) (done media.Kind, changed bool) {
	var b *frameBlock
	switch l.Track {
	case media.KindVideo:
		b = &t.video
	case media.KindAudio:
		b = &t.audio
	default:
		return 0, false
	}
	switch l.Kind {
	case lineFrame:
		*b = frameBlock{open: true, hasPTS: l.HasPTS}
		if l.HasPTS {
			b.ticks = frameTicks(l)
		}
		return 0, false
	case lineMeta:
		if !b.open {
			return 0, false
		}
	default:
		return 0, false
	}
	switch l.Key {
	case "lavfi.black_start":
		b.blackStart = true
	case "lavfi.black_end":
		b.blackEnd = true
	case "lavfi.freezedetect.freeze_start":
		b.freezeStart = true
		b.setStart(l.Value)
	case "lavfi.freezedetect.freeze_end":
		b.freezeEnd = true
	case "lavfi.silence_start":
		b.silenceStart = true
		b.setStart(l.Value)
	case "lavfi.silence_end":
		b.silenceEnd = true
	case endKey:
		b.open = false
		if !b.hasPTS {
			return 0, false
		}
		if l.Track == media.KindVideo {
			changed = t.closeVideo(b)
			t.lastVideo, t.seenVideo = b.ticks, true
		} else {
			changed = t.closeAudio(b)
			t.lastAudio, t.seenAudio = b.ticks, true
		}
		return l.Track, changed
	}
	return 0, false
}

func (b *frameBlock) setStart(v string) {
	if s, err := parseSeconds(v); err == nil {
		b.startAt, b.startValid = secondsToTicks(s), true
	}
}

func (t *tracker) closeVideo(b *frameBlock) bool {
	changed := false
	if b.blackEnd {
		t.blackPending = false
		changed = t.set(condBlack, false, 0) || changed
	}
	if b.blackStart && t.blackMin > 0 {
		t.blackPending, t.blackStart = true, b.ticks
	}
	if t.blackPending && !t.cond[condBlack].active && b.ticks-t.blackStart >= t.blackMin {
		changed = t.set(condBlack, true, t.blackStart) || changed
	}
	switch {
	case b.freezeStart && b.freezeEnd:
		// freezedetect (ffmpeg 5.1) reports a start and an end on the same
		// frame when that frame differs from the reference but comes at
		// least d after it (sparse frames, as with keyframes only): no
		// freeze at all.
	case b.freezeEnd:
		changed = t.set(condFrozen, false, 0) || changed
	case b.freezeStart:
		changed = t.set(condFrozen, true, b.start()) || changed
	}
	return changed
}

func (t *tracker) closeAudio(b *frameBlock) bool {
	changed := false
	if b.silenceEnd {
		changed = t.set(condSilent, false, 0) || changed
	}
	if b.silenceStart {
		changed = t.set(condSilent, true, b.start()) || changed
	}
	return changed
}

// start returns where a reported condition began: the printed value, or
// the frame itself when the value was unreadable.
func (b *frameBlock) start() int64 {
	if b.startValid {
		return b.startAt
	}
	return b.ticks
}

func (t *tracker) set(c condition, active bool, since int64) bool {
	cur := &t.cond[c]
	if cur.active == active {
		return false
	}
	cur.active, cur.since = active, since
	if !active {
		cur.since = 0
	}
	return true
}

// String describes the state for logs: "unknown", "healthy at 12.000s" or
// "black since 3.000s, silent since 3.021s at 5.000s" (channel clock).
func (s State) String() string {
	if !s.Known {
		return "unknown"
	}
	var parts []string
	for _, c := range []struct {
		on    bool
		name  string
		since Mark
	}{{s.Black, "black", s.BlackSince}, {s.Frozen, "frozen", s.FrozenSince}, {s.Silent, "silent", s.SilentSince}} {
		if c.on {
			parts = append(parts, fmt.Sprintf("%s since %.3fs", c.name, float64(c.since.PTS)/media.Timescale))
		}
	}
	if len(parts) == 0 {
		parts = []string{"healthy"}
	}
	return fmt.Sprintf("%s at %.3fs", strings.Join(parts, ", "), float64(s.At.PTS)/media.Timescale)
}
