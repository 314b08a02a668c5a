package edge

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Alarm is a transition of a channel's manifest-age alarm. The alarm is
// raised when the newest segment or part in the channel's media playlists
// has not changed for Config.ManifestAlarmAfter while the edge keeps
// asking for them (a fill started within half that time: a channel nobody
// watches is not judged), and cleared when it moves again.
type Alarm struct {
	Channel string
	Age     time.Duration // the channel's manifest age when the transition was seen
	Raised  bool          // true: raised; false: cleared
	At      time.Time     // edge clock (Config.Now) at the transition
}

// alarmInterval is how often Run compares manifest ages with the limit.
const alarmInterval = 250 * time.Millisecond

// alarmLoop checks manifest ages every alarmInterval until ctx is
// canceled and reports transitions: the gauge, a log line and
// Config.OnAlarm, called here with no lock held, one call at a time (a
// slow callback delays the next check, never a viewer).
func (e *Edge) alarmLoop(ctx context.Context) {
	tick := time.NewTicker(alarmInterval)
	defer tick.Stop()
	raised := make(map[string]bool)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, a := range e.alarmTransitions(raised) {
			if e.cfg.OnAlarm != nil && ctx.Err() == nil {
				e.cfg.OnAlarm(a)
			}
		}
	}
}

// alarmTransitions compares every channel's manifest age with its limit
// and returns the channels whose alarm state changed since the last call
// (raised holds that state), sorted by channel; it sets the gauge and
// logs each one.
func (e *Edge) alarmTransitions(raised map[string]bool) []Alarm {
	now := e.now()
	var out []Alarm
	for _, s := range e.ages.snapshot(now) {
		limit := e.alarmLimit(s.target)
		// Raised only on fresh evidence: when nobody asks for a channel
		// the edge does not look, and an old position says nothing.
		on := s.age > limit && (raised[s.channel] || s.asked <= limit/2)
		if on == raised[s.channel] {
			continue
		}
		raised[s.channel] = on
		out = append(out, Alarm{Channel: s.channel, Age: s.age, Raised: on, At: now})
		if on {
			e.metrics.manifestAlarm.WithLabelValues(s.channel).Set(1)
			e.log.Warn("manifest alarm raised: the channel's playlists stopped advancing",
				"channel", s.channel, "age", s.age, "limit", limit)
		} else {
			e.metrics.manifestAlarm.WithLabelValues(s.channel).Set(0)
			e.log.Info("manifest alarm cleared", "channel", s.channel, "age", s.age, "limit", limit)
		}
	}
	slices.SortFunc(out, func(a, b Alarm) int { return strings.Compare(a.Channel, b.Channel) })
	return out
}

// alarmLimit is Config.ManifestAlarmAfter, else 2 target durations.
func (e *Edge) alarmLimit(target time.Duration) time.Duration {
	if e.cfg.ManifestAlarmAfter > 0 {
		return e.cfg.ManifestAlarmAfter
	}
	if target <= 0 {
		target = fallbackTargetDuration
	}
	return 2 * target
}
