package ingest

import (
	"testing"
	"time"
)

func TestLimitsWithDefaults(t *testing.T) {
	got, err := Limits{MaxConns: 3}.WithDefaults()
	if err != nil || got.ReadTimeout != 10*time.Second || got.HandshakeTimeout != 5*time.Second || got.MaxConns != 3 {
		t.Fatalf("WithDefaults = %+v, %v", got, err)
	}
	for _, bad := range []Limits{{ReadTimeout: -1}, {HandshakeTimeout: -1}, {MaxConns: -1}, {MaxWait: -1}, {MaxUnits: -1}} {
		if _, err := bad.WithDefaults(); err == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
}
