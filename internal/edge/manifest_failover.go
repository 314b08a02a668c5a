package edge

import (
	"log/slog"
	"strings"
	"sync"
	"time"
)

const (
	// fallbackTargetDuration stands in for a media playlist without
	// EXT-X-TARGETDURATION (RFC 8216bis section 4.4.3.1 requires it).
	fallbackTargetDuration = 6 * time.Second
	// feedIdleAfter is how long a channel's manifests may go unrequested
	// before its per-upstream state (stale marks included) is dropped.
	feedIdleAfter = 5 * time.Minute
)

// liveChannel returns the channel of any playback target
// ("/live/{channel}/...").
func liveChannel(target string) (string, bool) {
	path, _, _ := strings.Cut(target, "?")
	rest, ok := strings.CutPrefix(path, "/live/")
	if !ok {
		return "", false
	}
	channel, _, ok := strings.Cut(rest, "/")
	return channel, ok && channel != ""
}

// manifestFailover decides, per channel, which upstreams have stale
// manifests. It tracks how far each upstream's media playlists of a
// channel reach and when that last moved; an upstream whose position has
// not moved for the limit (Config.StaleManifestAfter, else 3 target
// durations) is compared with the next upstream, and marked stale for the
// channel when that one is ahead. A stale upstream goes after the fresh
// ones for the channel's requests until a probe (or a last-resort answer)
// shows it moving again and caught up. Other channels are not affected.
type manifestFailover struct {
	after   time.Duration // Config.StaleManifestAfter; 0: 3 x target duration
	log     *slog.Logger
	metrics *metrics

	mu       sync.Mutex
	channels map[string]*channelFeed
}

// channelFeed is one channel as seen from the group.
type channelFeed struct {
	newest   position  // newest position any upstream answered
	target   string    // last non-blocking media playlist target, probed on stale upstreams
	lastUsed time.Time // last observation on behalf of a viewer
	ups      map[*upstream]*upstreamFeed
}

// upstreamFeed is one upstream's media playlists of one channel.
type upstreamFeed struct {
	pos     position // newest position it answered
	changed time.Time
	limit   time.Duration // how long pos may stay unchanged
	td      time.Duration // target duration of its last playlist
	checked time.Time     // last comparison with another upstream
	stale   bool
	staleAt position // pos when marked stale
}

// feedCheck is observe's verdict on the upstream that answered.
type feedCheck struct {
	due       bool // compare with the next upstream now
	unchanged time.Duration
	limit     time.Duration
}

func newManifestFailover(after time.Duration, log *slog.Logger, m *metrics) *manifestFailover {
	return &manifestFailover{after: after, log: log, metrics: m, channels: make(map[string]*channelFeed)}
}

// limitFor is how long a playlist with target duration td may stand still.
func (m *manifestFailover) limitFor(td time.Duration) time.Duration {
	if m.after > 0 {
		return m.after
	}
	return 3 * td
}

// observe records that u answered a media playlist of channel reaching
// pos. It clears u's stale mark when u moved past where it stood when
// marked and is at most one segment behind the channel's newest. It
// reports whether u has stood still beyond its limit and is due for a
// comparison (at most once per target duration, never for a blocking
// reload: its answer waited for the future).
func (m *manifestFailover) observe(u *upstream, channel, target string, blocking, viewer bool, pos position, td time.Duration, now time.Time) feedCheck {
	if td <= 0 {
		td = fallbackTargetDuration
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.channels[channel]
	if c == nil {
		c = &channelFeed{newest: pos, ups: make(map[*upstream]*upstreamFeed)}
		m.channels[channel] = c
	}
	if viewer {
		c.lastUsed = now
	}
	if !blocking {
		c.target = target
	}
	if pos.after(c.newest) {
		c.newest = pos
	}
	f := c.ups[u]
	switch {
	case f == nil:
		f = &upstreamFeed{pos: pos, changed: now}
		c.ups[u] = f
	case pos.after(f.pos):
		f.pos, f.changed = pos, now
	}
	f.td, f.limit = td, m.limitFor(td)
	if f.stale && f.pos.after(f.staleAt) && f.pos.segment+1 >= c.newest.segment {
		f.stale = false
		m.metrics.manifestStale.WithLabelValues(channel, u.base).Set(0)
		m.log.Info("manifest fail-back: upstream advances again", "channel", channel, "upstream", u.base,
			"reason", "moved from "+f.staleAt.String()+" to "+f.pos.String()+"; channel newest "+c.newest.String())
	}
	chk := feedCheck{unchanged: now.Sub(f.changed), limit: f.limit}
	if blocking || f.stale || chk.unchanged <= f.limit || now.Sub(f.checked) < min(f.td, f.limit) {
		return chk
	}
	f.checked = now
	chk.due = true
	return chk
}

// due reports whether u, the upstream a channel's requests go to first,
// has stood still beyond its limit and is due for a comparison; target is
// the playlist to compare. It changes nothing (observe does).
func (m *manifestFailover) due(u *upstream, channel string, now time.Time) (target string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.channels[channel]
	if c == nil || c.target == "" {
		return "", false
	}
	f := c.ups[u]
	if f == nil || f.stale || now.Sub(f.changed) <= f.limit || now.Sub(f.checked) < min(f.td, f.limit) {
		return "", false
	}
	return c.target, true
}

// markStale takes from out of the preferred set for channel's requests.
func (m *manifestFailover) markStale(from *upstream, channel string, to *upstream, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.channels[channel]
	if c == nil || c.ups[from] == nil || c.ups[from].stale {
		return
	}
	f := c.ups[from]
	f.stale, f.staleAt = true, f.pos
	m.metrics.manifestFailover.WithLabelValues(channel, from.base).Inc()
	m.metrics.manifestStale.WithLabelValues(channel, from.base).Set(1)
	m.log.Warn("manifest stale: failing over for the channel", "channel", channel, "upstream", from.base,
		"to", to.base, "reason", reason)
}

// staleSet returns the upstreams stale for channel, nil when none.
func (m *manifestFailover) staleSet(channel string) map[*upstream]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.channels[channel]
	if c == nil {
		return nil
	}
	var out map[*upstream]bool
	for u, f := range c.ups {
		if f.stale {
			if out == nil {
				out = make(map[*upstream]bool)
			}
			out[u] = true
		}
	}
	return out
}

// staleProbe is a playlist to ask a stale upstream for.
type staleProbe struct {
	u       *upstream
	channel string
	target  string
}

// probes lists the stale marks to probe, and drops the state of channels
// nobody asked for in feedIdleAfter (their marks with it).
func (m *manifestFailover) probes(now time.Time) []staleProbe {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []staleProbe
	for name, c := range m.channels {
		if now.Sub(c.lastUsed) > feedIdleAfter {
			for u, f := range c.ups {
				if f.stale {
					m.metrics.manifestStale.WithLabelValues(name, u.base).Set(0)
				}
			}
			delete(m.channels, name)
			continue
		}
		for u, f := range c.ups {
			if f.stale && c.target != "" {
				out = append(out, staleProbe{u: u, channel: name, target: c.target})
			}
		}
	}
	return out
}
