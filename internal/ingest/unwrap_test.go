package ingest

import "testing"

var unwrapCases = []struct {
	name string
	bits uint
	in   []int64
	want []int64
}{
	{name: "forward", bits: 33, in: []int64{100, 3100, 6100}, want: []int64{100, 3100, 6100}},
	{name: "33-bit wrap", bits: 33, in: []int64{1<<33 - 3000, 0, 3000}, want: []int64{1<<33 - 3000, 1 << 33, 1<<33 + 3000}},
	{name: "small step back", bits: 33, in: []int64{9000, 6000, 12000}, want: []int64{9000, 6000, 12000}},
	{name: "step back across wrap", bits: 33, in: []int64{10, 1<<33 - 10}, want: []int64{10, -10}},
	{name: "32-bit ms wrap", bits: 32, in: []int64{1<<32 - 20, 1<<32 + 1, 13}, want: []int64{1<<32 - 20, 1<<32 + 1, 1<<32 + 13}},
	{name: "high bits ignored", bits: 33, in: []int64{1<<40 + 5}, want: []int64{5}},
}

func TestUnwrapper(t *testing.T) {
	for _, tt := range unwrapCases {
		t.Run(tt.name, func(t *testing.T) {
			u := Unwrapper{Bits: tt.bits}
			for i, raw := range tt.in {
				if got := u.Unwrap(raw); got != tt.want[i] {
					t.Fatalf("Unwrap(%d) #%d = %d, want %d", raw, i, got, tt.want[i])
				}
			}
		})
	}
}

// FuzzUnwrapper checks that unwrapping keeps the raw value modulo 2^33 and
// turns steps shorter than 2^32 into the same signed step.
func FuzzUnwrapper(f *testing.F) {
	for _, tt := range unwrapCases {
		for i := 1; i < len(tt.in); i++ {
			f.Add(tt.in[i-1], tt.in[i]-tt.in[i-1])
		}
	}
	f.Fuzz(func(t *testing.T, start, step int64) {
		const mod = int64(1) << 33
		step %= mod / 2
		u := Unwrapper{Bits: 33}
		a := u.Unwrap(start)
		b := u.Unwrap(start + step)
		if (a-start)%mod != 0 || a < 0 || a >= mod {
			t.Fatalf("first value %d from %d", a, start)
		}
		if b-a != step {
			t.Fatalf("step %d became %d", step, b-a)
		}
	})
}
