package origin

import (
	"testing"
	"time"
)

func TestTimeShiftDepth(t *testing.T) {
	tests := []struct {
		age, want time.Duration
	}{
		{0, 2 * time.Second},                         // at least one segment
		{2500 * time.Millisecond, 2 * time.Second},   // age-1s = 1.5s -> one segment
		{13250 * time.Millisecond, 12 * time.Second}, // never deeper than the content
		{10 * time.Minute, time.Minute},              // the window once it exists
		{61*time.Second + 900*time.Millisecond, time.Minute},
	}
	for _, tt := range tests {
		if got := timeShiftDepth(time.Minute, 2*time.Second, tt.age); got != tt.want {
			t.Errorf("age %v: depth %v, want %v", tt.age, got, tt.want)
		}
	}
}
