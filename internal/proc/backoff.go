package proc

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff spaces out restarts of a failing child: the delay starts at Min,
// doubles after each failure up to Max, and has up to Jitter (a fraction)
// added at random so that many supervisors restarting together spread out.
// A run that lasted at least ResetAfter counts as healthy and resets the
// delay to Min. The zero value uses the defaults below.
type Backoff struct {
	Min        time.Duration // first delay, default 500 ms
	Max        time.Duration // largest delay before jitter, default 10 s
	ResetAfter time.Duration // healthy-run length, default 30 s
	Jitter     float64       // fraction of the delay added at random, default 0.2; negative disables
	// Rand returns a number in [0, 1); default math/rand/v2.Float64.
	Rand func() float64

	cur time.Duration
}

func (b *Backoff) defaults() {
	if b.Min <= 0 {
		b.Min = 500 * time.Millisecond
	}
	if b.Max < b.Min {
		b.Max = max(10*time.Second, b.Min)
	}
	if b.ResetAfter <= 0 {
		b.ResetAfter = 30 * time.Second
	}
	if b.Jitter == 0 {
		b.Jitter = 0.2
	}
	if b.Rand == nil {
		b.Rand = rand.Float64
	}
}

// Next returns the delay to wait before the next start, given how long the
// run that just ended lasted. Delays lie in [Min, Max*(1+Jitter)].
func (b *Backoff) Next(ranFor time.Duration) time.Duration {
	b.defaults()
	if b.cur == 0 || ranFor >= b.ResetAfter {
		b.cur = b.Min
	} else {
		b.cur = min(b.cur*2, b.Max)
	}
	d := b.cur
	if b.Jitter > 0 {
		d += time.Duration(float64(d) * b.Jitter * b.Rand())
	}
	return d
}

// Reset forgets past failures: the next delay is Min.
func (b *Backoff) Reset() { b.cur = 0 }

// Wait sleeps for Next(ranFor), or until ctx ends (returning ctx.Err()).
func (b *Backoff) Wait(ctx context.Context, ranFor time.Duration) error {
	t := time.NewTimer(b.Next(ranFor))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
