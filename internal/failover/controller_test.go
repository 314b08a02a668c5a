package failover

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func healthy(p string) Health {
	return Health{Pipeline: p, Running: true, HasSession: true, Age: 500 * time.Millisecond}
}

func TestObserve(t *testing.T) {
	stale := healthy("a")
	stale.Age = 5 * time.Second
	down := healthy("a")
	down.EncoderDown = "exit status 137"
	stopped := Health{Pipeline: "a", Detail: "stopped through the API"}
	noSession := Health{Pipeline: "b", Running: true}
	staleB := healthy("b")
	staleB.Age = 9 * time.Second
	for _, tc := range []struct {
		name      string
		hs        []Health
		wantTo    string // "" = no decision
		wantCause string
		reason    string
	}{
		{"both healthy", []Health{healthy("a"), healthy("b")}, "", "", ""},
		{"active stale", []Health{stale, healthy("b")}, "b", CauseManifestAge, "manifest age 5.0 s is over the 4.0 s threshold"},
		{"active encoder down", []Health{down, healthy("b")}, "b", CauseEncoderDown, "exit status 137"},
		{"active stopped", []Health{stopped, healthy("b")}, "b", CauseStopped, "stopped through the API"},
		{"active stopped, standby idle", []Health{stopped, noSession}, "b", CauseStopped, "not running"},
		{"both stale", []Health{stale, staleB}, "", "", ""},
		{"standby without output", []Health{stale, noSession}, "", "", ""},
		{"standby down", []Health{stale, {Pipeline: "b", Running: true, HasSession: true, EncoderDown: "backoff"}}, "", "", ""},
		{"active idle, no session", []Health{{Pipeline: "a", Running: true}, healthy("b")}, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(Config{Threshold: 4 * time.Second}, "a")
			if err != nil {
				t.Fatal(err)
			}
			d, ok := c.Observe(time.Now(), tc.hs)
			if tc.wantTo == "" {
				if ok {
					t.Fatalf("decision %+v, want none", d)
				}
				if c.Active() != "a" {
					t.Fatalf("active %s", c.Active())
				}
				return
			}
			if !ok || d.To != tc.wantTo || d.From != "a" || d.Cause != tc.wantCause || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("decision %+v ok=%v, want to %s cause %s reason ~%q", d, ok, tc.wantTo, tc.wantCause, tc.reason)
			}
			if c.Active() != tc.wantTo {
				t.Fatalf("active %s after decision", c.Active())
			}
		})
	}
}

func TestHoldPreventsFlapping(t *testing.T) {
	c, _ := New(Config{Threshold: 4 * time.Second}, "a")
	now := time.Now()
	stale := func(p string) Health { h := healthy(p); h.Age = 10 * time.Second; return h }
	if d, ok := c.Observe(now, []Health{stale("a"), healthy("b")}); !ok || d.To != "b" {
		t.Fatalf("first failover: %+v %v", d, ok)
	}
	// b turns stale at once and a recovers: within the hold time, stay.
	if d, ok := c.Observe(now.Add(time.Second), []Health{healthy("a"), stale("b")}); ok {
		t.Fatalf("flapped within hold: %+v", d)
	}
	if d, ok := c.Observe(now.Add(5*time.Second), []Health{healthy("a"), stale("b")}); !ok || d.To != "a" {
		t.Fatalf("after hold: %+v %v", d, ok)
	}
}

func TestPromote(t *testing.T) {
	stale := healthy("b")
	stale.Age = time.Minute
	for _, tc := range []struct {
		name    string
		target  string
		hs      []Health
		refused string
	}{
		{"healthy standby", "b", []Health{healthy("a"), healthy("b")}, ""},
		{"already active", "a", []Health{healthy("a"), healthy("b")}, "already active"},
		{"unknown", "c", []Health{healthy("a"), healthy("b")}, `no pipeline "c"`},
		{"stale standby", "b", []Health{healthy("a"), stale}, "manifest age"},
		{"stopped standby", "b", []Health{healthy("a"), {Pipeline: "b", Detail: "restarting"}}, "not running: restarting"},
		{"standby without output", "b", []Health{healthy("a"), {Pipeline: "b", Running: true}}, "no output"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := New(Config{Threshold: 4 * time.Second}, "a")
			d, err := c.Promote(time.Now(), tc.target, CauseManual, "operator", tc.hs)
			if tc.refused != "" {
				if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("err %v, want refusal with %q", err, tc.refused)
				}
				if c.Active() != "a" {
					t.Fatalf("active changed to %s", c.Active())
				}
				return
			}
			if err != nil || d.To != tc.target || d.Cause != CauseManual || c.Active() != tc.target {
				t.Fatalf("%+v %v active %s", d, err, c.Active())
			}
		})
	}
}

func TestNewRejectsZeroThreshold(t *testing.T) {
	if _, err := New(Config{}, "a"); err == nil {
		t.Fatal("no error for a zero threshold")
	}
}
