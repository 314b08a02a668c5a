package ingest

// Unwrapper turns timestamps that wrap at 2^Bits (MPEG-TS PTS/DTS: 33 bits
// of 90 kHz ticks, ISO/IEC 13818-1 2.4.3.7; RTMP: 32 bits of milliseconds)
// into a monotonic int64 timeline that starts at the first value seen.
// Consecutive values are assumed less than 2^(Bits-1) apart; a step back
// smaller than that is a step back, not a wrap. The zero value is not
// usable: set Bits.
type Unwrapper struct {
	Bits uint // 1..62
	last int64
	init bool
}

// Unwrap returns raw (only its low Bits bits are used) on the unwrapped
// timeline.
func (u *Unwrapper) Unwrap(raw int64) int64 {
	mod := int64(1) << u.Bits
	mask := mod - 1
	raw &= mask
	if !u.init {
		u.init, u.last = true, raw
		return raw
	}
	diff := (raw - u.last) & mask
	if diff >= mod/2 {
		diff -= mod
	}
	u.last += diff
	return u.last
}
