package edge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// BreakerConfig tunes the circuit breaker in front of the origin group.
// Zero fields take the defaults below.
type BreakerConfig struct {
	// Disabled keeps the circuit closed whatever the upstreams do.
	Disabled bool
	// ErrorRate is the share of failed upstream requests within Window
	// that opens the circuit. Default 0.5.
	ErrorRate float64
	// Window is how far back upstream outcomes count. Default 10 s.
	Window time.Duration
	// MinRequests is how many upstream requests Window must hold before
	// the rate is judged. Default 4.
	MinRequests int
	// ProbeInterval is how often an open circuit sends one probe (the
	// half-open state) to see whether the upstream is back. Default 1 s.
	ProbeInterval time.Duration
}

// Breaker defaults.
const (
	DefaultBreakerErrorRate     = 0.5
	DefaultBreakerWindow        = 10 * time.Second
	DefaultBreakerMinRequests   = 4
	DefaultBreakerProbeInterval = time.Second
)

func (c *BreakerConfig) setDefaults() error {
	if c.ErrorRate < 0 || c.ErrorRate > 1 || c.Window < 0 || c.MinRequests < 0 || c.ProbeInterval < 0 {
		return errors.New("breaker: error rate must be within 0..1 and durations and counts must not be negative")
	}
	if c.ErrorRate == 0 {
		c.ErrorRate = DefaultBreakerErrorRate
	}
	if c.Window == 0 {
		c.Window = DefaultBreakerWindow
	}
	if c.MinRequests == 0 {
		c.MinRequests = DefaultBreakerMinRequests
	}
	if c.ProbeInterval == 0 {
		c.ProbeInterval = DefaultBreakerProbeInterval
	}
	return nil
}

// breaker is the circuit breaker: closed, it counts upstream outcomes in
// a sliding window and opens when the failure rate crosses the
// threshold; open, no viewer request goes upstream, and one probe per
// ProbeInterval (half-open) closes it again when an upstream answers.
type breaker struct {
	cfg     BreakerConfig
	now     func() time.Time
	metrics *metrics
	onOpen  func() // called (without locks) when the circuit opens

	open atomic.Bool // read lock-free on every request; written under mu

	mu       sync.Mutex
	outcomes []outcome // within Window, oldest first
	probe    string    // a target that answered 200: what half-open probes fetch
}

type outcome struct {
	at     time.Time
	failed bool
}

// maxOutcomes bounds the window's memory under heavy traffic; the rate
// is then judged over the newest outcomes.
const maxOutcomes = 4096

func newBreaker(cfg BreakerConfig, now func() time.Time, m *metrics) *breaker {
	return &breaker{cfg: cfg, now: now, metrics: m}
}

// isOpen reports whether upstream requests are held back.
func (b *breaker) isOpen() bool { return b.open.Load() }

// record counts one upstream outcome; target answered 200 when ok.
func (b *breaker) record(failed bool, okTarget string) {
	if b.cfg.Disabled {
		return
	}
	now := b.now()
	b.mu.Lock()
	if okTarget != "" {
		b.probe = okTarget
	}
	if b.open.Load() {
		b.mu.Unlock()
		return
	}
	b.outcomes = append(b.outcomes, outcome{at: now, failed: failed})
	cut := 0
	for cut < len(b.outcomes) && (now.Sub(b.outcomes[cut].at) > b.cfg.Window || len(b.outcomes)-cut > maxOutcomes) {
		cut++
	}
	b.outcomes = b.outcomes[cut:]
	fails := 0
	for _, o := range b.outcomes {
		if o.failed {
			fails++
		}
	}
	opened := failed && len(b.outcomes) >= b.cfg.MinRequests &&
		float64(fails) >= b.cfg.ErrorRate*float64(len(b.outcomes))
	if opened {
		b.outcomes = nil
		b.open.Store(true)
		b.metrics.breakerOpen.Set(1)
		b.metrics.breakerTransitions.WithLabelValues("open").Inc()
	}
	b.mu.Unlock()
	if opened && b.onOpen != nil {
		b.onOpen()
	}
}

// close ends an open circuit.
func (b *breaker) close() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open.Load() {
		return false
	}
	b.outcomes = nil
	b.open.Store(false)
	b.metrics.breakerOpen.Set(0)
	b.metrics.breakerTransitions.WithLabelValues("closed").Inc()
	return true
}

// probeTarget returns what a half-open probe fetches.
func (b *breaker) probeTarget() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.probe == "" {
		return "/"
	}
	return b.probe
}

// probeLoop sends one probe per ProbeInterval while the circuit is open
// and closes it when an upstream answers below 500.
func (e *Edge) probeLoop(ctx context.Context) {
	b := e.breaker
	if b.cfg.Disabled {
		return
	}
	tick := time.NewTicker(b.cfg.ProbeInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if !b.isOpen() {
			continue
		}
		err := e.probeUpstream(ctx, b.probeTarget())
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			e.log.Debug("circuit stays open", "err", err)
			continue
		}
		if b.close() {
			e.log.Info("circuit closed: upstream answers again", "probe", b.probeTarget())
		}
	}
}

// probeUpstream fetches target once through the origin group.
func (e *Edge) probeUpstream(ctx context.Context, target string) error {
	e.metrics.breakerTransitions.WithLabelValues("half_open").Inc()
	t := newTarget(parseTarget(target), nil)
	resp, err := e.group.fetch(ctx, t, min(e.cfg.UpstreamTimeout, 5*time.Second))
	if err != nil {
		return fmt.Errorf("probe %s: %w", target, err)
	}
	defer resp.close()
	if resp.StatusCode >= 500 {
		return fmt.Errorf("probe %s: status %d", target, resp.StatusCode)
	}
	return nil
}
