package detect

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"onair/internal/media"
)

// BenchmarkFFmpegCPU measures what detection costs per input: a 720p30
// H.264 source (about 4 Mb/s, 2 s GOP, B-frames) with 128 kb/s AAC is fed
// in real time for 12 s, and the CPU time of the Detector's ffmpeg (from
// /proc) and of this Go process over the fed stretch (after ffmpeg's
// start-up) is reported as a percentage of one core; pacing-only is the
// feeding loop's own share of go-%cpu. Run it alone:
//
//	go test -run '^$' -bench FFmpegCPU -benchtime 1x ./internal/detect/
func BenchmarkFFmpegCPU(b *testing.B) {
	c := makeClip(b, clipSpec{
		video: "testsrc2=size=1280x720:rate=30[v]", audio: "sine=frequency=440:sample_rate=48000",
		seconds: 14, gop: 60, bframes: 2,
		extra: []string{"-b:v", "4M", "-maxrate", "4M", "-bufsize", "8M"},
	})
	b.Run("pacing-only", func(b *testing.B) {
		// The feeding loop alone, for the baseline of go-%cpu.
		for range b.N {
			start, first := time.Now(), c.units[0].DTS
			self0 := selfCPU()
			for _, u := range c.units {
				time.Sleep(time.Until(start.Add(time.Duration((u.DTS - first) * int64(time.Second) / media.Timescale))))
				u.Wall = time.Now()
			}
			secs := float64(c.units[len(c.units)-1].DTS-first) / media.Timescale
			b.ReportMetric(100*(selfCPU()-self0).Seconds()/secs, "go-%cpu")
		}
	})
	for _, sample := range []Sample{SampleKeyframes, SampleAll} {
		b.Run(string(sample), func(b *testing.B) {
			for range b.N {
				ff, self := measureCPU(b, c, sample)
				b.ReportMetric(ff, "ffmpeg-%cpu")
				b.ReportMetric(self, "go-%cpu")
			}
		})
	}
}

func measureCPU(b *testing.B, c clip, sample Sample) (ffmpegPct, goPct float64) {
	d, err := New(Config{Black: 2 * time.Second, Frozen: 2 * time.Second, Silent: 2 * time.Second, Sample: sample}, Deps{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Run(ctx)
	}()
	d.Start(c.video, c.audio)
	start := time.Now()
	first := c.units[0].DTS
	var pid int
	var ff0, self0 time.Duration
	var t0 time.Time
	var media0 int64
	for _, u := range c.units {
		at := start.Add(time.Duration((u.DTS - first) * int64(time.Second) / media.Timescale))
		time.Sleep(time.Until(at))
		u.Wall = time.Now()
		d.Write(u)
		// Start measuring 2 s in, once ffmpeg has started and decodes.
		if pid == 0 && u.DTS-first > 2*media.Timescale && d.State().Known {
			pid = d.ffmpegPID()
			ff0, self0, t0, media0 = procCPU(b, pid), selfCPU(), time.Now(), u.DTS
		}
	}
	if pid == 0 || d.ffmpegPID() != pid {
		b.Fatalf("ffmpeg not measured (pid %d, now %d, state %v)", pid, d.ffmpegPID(), d.State())
	}
	ff1, self1, t1 := procCPU(b, pid), selfCPU(), time.Now()
	mediaSecs := float64(c.units[len(c.units)-1].DTS-media0) / media.Timescale
	b.Logf("%s: %.1f s of media in %.1f s: ffmpeg %v CPU, Go %v CPU, dropped %d",
		sample, mediaSecs, t1.Sub(t0).Seconds(), ff1-ff0, self1-self0, d.Dropped())
	cancel()
	<-done
	return 100 * (ff1 - ff0).Seconds() / mediaSecs, 100 * (self1 - self0).Seconds() / mediaSecs
}

// procCPU returns the user+system CPU time of process pid.
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// Fields after the command: state is f[0]; utime and stime are the
	// 14th and 15th fields of the whole line, f[11] and f[12] here.
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const clockTick = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clockTick
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
