package proc

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestBackoffSequence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := Backoff{Min: 500 * time.Millisecond, Max: 4 * time.Second, ResetAfter: 30 * time.Second, Rand: func() float64 { return 0.5 }}
		steps := []struct {
			ranFor time.Duration
			want   time.Duration // with 10% jitter (0.2 * 0.5)
		}{
			{0, 550 * time.Millisecond},
			{time.Second, 1100 * time.Millisecond},
			{time.Second, 2200 * time.Millisecond},
			{time.Second, 4400 * time.Millisecond},
			{time.Second, 4400 * time.Millisecond}, // capped at Max
			{time.Minute, 550 * time.Millisecond},  // a healthy run resets
			{0, 1100 * time.Millisecond},
		}
		for i, s := range steps {
			start := time.Now()
			if err := b.Wait(t.Context(), s.ranFor); err != nil {
				t.Fatal(err)
			}
			if got := time.Since(start); got != s.want {
				t.Errorf("step %d: waited %v, want %v", i, got, s.want)
			}
		}
		b.Reset()
		if got := b.Next(0); got != 550*time.Millisecond {
			t.Errorf("after Reset: %v, want 550ms", got)
		}
	})
}

func TestBackoffCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var b Backoff // defaults: 500 ms .. 10 s
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := b.Wait(ctx, 0); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		if got := time.Since(start); got != 100*time.Millisecond {
			t.Errorf("returned after %v, want 100ms", got)
		}
	})
}

func TestBackoffJitterRange(t *testing.T) {
	b := Backoff{Min: time.Second, Max: 8 * time.Second}
	for i := range 200 {
		d := b.Next(0)
		if d < b.Min || d > b.Max+b.Max/5 {
			t.Fatalf("draw %d: %v outside [Min, Max*1.2]", i, d)
		}
	}
}
