package transcode

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"onair/internal/media"
	"onair/internal/proc"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// Parameter sets x264 and x265 wrote for a 320x240 frame.
var (
	h264SPSBytes = mustHex("6742c00dda0507ec0440000003004000000f03c50aa8")
	h264PPSBytes = mustHex("68ce0fc8")
	h265VPSBytes = mustHex("40010c01ffff01600000030090000003000003003c959409")
	h265SPSBytes = mustHex("42010101600000030090000003000003003ca00a080f16595952930bc05a020000030002000003003c10")
	h265PPSBytes = mustHex("4401c073c189")
	idrSlice     = []byte{0x65, 0x88, 0x84}
	hevcIDRSlice = []byte{0x26, 0x01, 0xaf}
)

var keyframeCases = []struct {
	name    string
	au      [][]byte
	hevc    bool
	wantErr bool
	w, h    int
}{
	{name: "h264", au: [][]byte{h264SPSBytes, h264PPSBytes, idrSlice}, w: 320, h: 240},
	{name: "h264 without pps", au: [][]byte{h264SPSBytes, idrSlice}, wantErr: true},
	{name: "h264 bad sps", au: [][]byte{{0x67, 0xff}, h264PPSBytes, idrSlice}, wantErr: true},
	{name: "h265", au: [][]byte{h265VPSBytes, h265SPSBytes, h265PPSBytes, hevcIDRSlice}, hevc: true, w: 320, h: 240},
	{name: "h265 without vps", au: [][]byte{h265SPSBytes, h265PPSBytes, hevcIDRSlice}, hevc: true, wantErr: true},
	{name: "empty", au: [][]byte{{}, nil}, wantErr: true},
}

func TestTrackFromKeyframe(t *testing.T) {
	for _, tt := range keyframeCases {
		t.Run(tt.name, func(t *testing.T) {
			tk, err := trackFromKeyframe(tt.au, tt.hevc, 30)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && (tk.Width != tt.w || tk.Height != tt.h || tk.FPS != 30 || tk.Kind != media.KindVideo) {
				t.Errorf("track %dx%d@%v kind %v, want %dx%d@30 video", tk.Width, tk.Height, tk.FPS, tk.Kind, tt.w, tt.h)
			}
		})
	}
}

func FuzzTrackFromKeyframe(f *testing.F) {
	for _, tt := range keyframeCases {
		var joined []byte
		for _, n := range tt.au {
			joined = append(joined, byte(len(n)))
			joined = append(joined, n...)
		}
		f.Add(joined, tt.hevc)
	}
	f.Fuzz(func(t *testing.T, b []byte, hevc bool) {
		// Length-prefixed NAL units (one length byte each).
		var au [][]byte
		for len(b) > 0 {
			n := min(int(b[0]), len(b)-1)
			au = append(au, b[1:1+n])
			b = b[1+n:]
		}
		tk, err := trackFromKeyframe(au, hevc, 25)
		if err == nil && (tk.SPS == nil || tk.PPS == nil) {
			t.Fatal("success without parameter sets")
		}
		_ = withParameterSets(au, &media.Track{SPS: h264SPSBytes, PPS: h264PPSBytes}, hevc)
	})
}

func TestWithParameterSets(t *testing.T) {
	h264Track := &media.Track{SPS: h264SPSBytes, PPS: h264PPSBytes}
	h265Track := &media.Track{VPS: h265VPSBytes, SPS: h265SPSBytes, PPS: h265PPSBytes}
	tests := []struct {
		name  string
		au    [][]byte
		track *media.Track
		hevc  bool
		want  int // NAL units after
	}{
		{"h264 adds", [][]byte{idrSlice}, h264Track, false, 3},
		{"h264 keeps in-band", [][]byte{h264SPSBytes, h264PPSBytes, idrSlice}, h264Track, false, 3},
		{"h265 adds vps too", [][]byte{hevcIDRSlice}, h265Track, true, 4},
		{"no track sets", [][]byte{idrSlice}, &media.Track{}, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := len(tt.au)
			got := withParameterSets(tt.au, tt.track, tt.hevc)
			if len(got) != tt.want || len(tt.au) != orig {
				t.Errorf("got %d NAL units (input now %d), want %d", len(got), len(tt.au), tt.want)
			}
			if tk, err := trackFromKeyframe(got, tt.hevc, 30); tt.want > 1 && err != nil {
				t.Errorf("result is not a usable keyframe: %v", err)
			} else if tt.want > 1 && tk.Width != 320 {
				t.Errorf("width %d", tk.Width)
			}
		})
	}
}

func TestWallMap(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := newWallMap(4)
	for i := range 6 { // the first two fall out of the ring
		m.put(int64(i)*3000, base.Add(time.Duration(i)*time.Second))
	}
	tests := []struct {
		pts, maxDiff int64
		want         time.Time
	}{
		{6000, 100, base.Add(2 * time.Second)},
		{15000, 100, base.Add(5 * time.Second)},
		{9100, 1500, base.Add(3 * time.Second)}, // nearest within the tolerance
		{3000, 100, time.Time{}},                // evicted
		{30000, 1500, time.Time{}},              // nothing near
	}
	for _, tt := range tests {
		if got := m.get(tt.pts, tt.maxDiff); !got.Equal(tt.want) {
			t.Errorf("get(%d, %d) = %v, want %v", tt.pts, tt.maxDiff, got, tt.want)
		}
	}
}

func TestSpeedMeter(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		rate   float64 // media seconds per wall second
		wall   time.Duration
		stall  time.Duration // no output for this long before measuring
		want   float64
		wantOK bool
	}{
		{name: "real time", rate: 1, wall: 10 * time.Second, want: 1, wantOK: true},
		{name: "half speed", rate: 0.5, wall: 10 * time.Second, want: 0.5, wantOK: true},
		{name: "faster", rate: 3, wall: 10 * time.Second, want: 3, wantOK: true},
		{name: "stall shows", rate: 1, wall: 10 * time.Second, stall: 2500 * time.Millisecond, want: 5.0 / 7.5, wantOK: true},
		{name: "too little history", rate: 1, wall: 500 * time.Millisecond, wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m speedMeter
			var now time.Time
			for el := time.Duration(0); el <= tt.wall; el += 50 * time.Millisecond {
				now = base.Add(el)
				m.observe(now, int64(tt.rate*el.Seconds()*media.Timescale))
			}
			got, ok := m.speed(now.Add(tt.stall))
			if ok != tt.wantOK || (ok && (got < tt.want-0.03 || got > tt.want+0.03)) {
				t.Errorf("speed = %.3f, %v; want %.3f, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestFailureHint(t *testing.T) {
	tests := []struct {
		err  error
		want string // substring of the hint; "" for none
	}{
		{&proc.ExitError{Code: 1, Tail: "[NULL @ 0x1] Unknown encoder 'libx264'"}, "libx264"},
		{&proc.ExitError{Code: 1, Tail: "x264 [error]: invalid preset 'x'\nError while opening encoder for output stream #0:0"}, "refused its settings"},
		{fmt.Errorf("wrapped: %w", &proc.ExitError{Code: 1, Tail: "pipe:3: Invalid argument"}), "rejected"},
		{&proc.ExitError{Code: 1, Tail: "Cannot allocate memory"}, "out of memory"},
		{&proc.ExitError{Code: -1, Signal: "SIGKILL"}, "out-of-memory killer"},
		{&proc.ExitError{Code: 1, Tail: "something else"}, ""},
		{errors.New("not an exit"), ""},
	}
	for _, tt := range tests {
		got := failureHint(tt.err)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("failureHint(%v) = %q, want mention of %q", tt.err, got, tt.want)
		}
	}
}
