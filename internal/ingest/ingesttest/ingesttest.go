// Package ingesttest holds test helpers shared by the ingest protocol
// packages: a map-backed Router over real stream.Streams, a Watcher that
// drains a stream reader and checks what a downstream consumer would see,
// an ffmpeg process runner, a log capture and a metric reader.
//
// Only tests import it. ingesttest imports internal/ingest, internal/media
// and internal/stream. Everything here is safe for concurrent use.
package ingesttest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/ingest"
	"onair/internal/media"
	"onair/internal/stream"
)

// Router maps stream keys to channels backed by real streams.
type Router struct {
	mu      sync.Mutex
	targets map[string]ingest.Target
}

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{targets: map[string]ingest.Target{}} }

// Add creates a stream for channel, reachable with key (and SRT
// passphrase, "" for none). The stream is closed when the test ends.
func (r *Router) Add(t testing.TB, key, channel, passphrase string) *stream.Stream {
	t.Helper()
	st, err := stream.New(stream.Config{Grid: media.Grid{Segment: 2 * time.Second, Part: 500 * time.Millisecond}, ReaderQueue: 4096})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	r.mu.Lock()
	r.targets[key] = ingest.Target{Channel: channel, Stream: st, Passphrase: passphrase}
	r.mu.Unlock()
	return st
}

// Route implements ingest.Router.
func (r *Router) Route(key string) (ingest.Target, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.targets[key]
	if !ok {
		return ingest.Target{}, ingest.ErrUnknownKey
	}
	return t, nil
}

// Watcher drains a stream reader in the background and records what it
// sees, checking that timestamps never go back within a track.
type Watcher struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every event
	sessions []stream.Session
	ends     int
	video    int
	audio    int
	keys     int
	lastDTS  map[media.Kind]int64
	problems []string
}

// Watch starts draining a new reader of st until the test ends.
func Watch(t testing.TB, st *stream.Stream) *Watcher {
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watcher{cancel: cancel, done: make(chan struct{}), changed: make(chan struct{}), lastDTS: map[media.Kind]int64{}}
	r := st.NewReader()
	go func() {
		defer close(w.done)
		defer r.Close()
		for {
			ev, err := r.Read(ctx)
			if err != nil {
				return
			}
			w.record(ev)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-w.done
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, p := range w.problems {
			t.Error(p)
		}
	})
	return w
}

func (w *Watcher) record(ev stream.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch ev.Type {
	case stream.EventSession:
		w.sessions = append(w.sessions, *ev.Session)
		w.lastDTS = map[media.Kind]int64{}
	case stream.EventEnd:
		w.ends++
	case stream.EventUnit:
		u := ev.Unit
		if last, ok := w.lastDTS[u.Kind]; ok && u.DTS <= last {
			w.problems = append(w.problems, fmt.Sprintf("%v DTS went from %d to %d", u.Kind, last, u.DTS))
		}
		if u.PTS < u.DTS {
			w.problems = append(w.problems, fmt.Sprintf("%v PTS %d before DTS %d", u.Kind, u.PTS, u.DTS))
		}
		w.lastDTS[u.Kind] = u.DTS
		switch u.Kind {
		case media.KindVideo:
			w.video++
			if u.Key {
				w.keys++
			}
			if len(u.NALUs) == 0 {
				w.problems = append(w.problems, "video unit without NAL units")
			}
		case media.KindAudio:
			w.audio++
			if len(u.Audio) == 0 || len(u.Audio) > 1<<13 {
				w.problems = append(w.problems, fmt.Sprintf("audio unit of %d bytes", len(u.Audio)))
			}
		}
	}
	close(w.changed)
	w.changed = make(chan struct{})
}

// Stats is what a Watcher saw so far.
type Stats struct {
	Sessions          []stream.Session
	Ends              int
	Video, Audio, Key int
}

// Stats returns a snapshot.
func (w *Watcher) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Stats{Sessions: append([]stream.Session(nil), w.sessions...), Ends: w.ends, Video: w.video, Audio: w.audio, Key: w.keys}
}

// Wait blocks until cond holds for the watcher's stats or d passes, and
// fails the test with what then holds.
func (w *Watcher) Wait(t testing.TB, d time.Duration, what string, cond func(Stats) bool) Stats {
	t.Helper()
	deadline := time.After(d)
	for {
		w.mu.Lock()
		ch := w.changed
		w.mu.Unlock()
		s := w.Stats()
		if cond(s) {
			return s
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("after %v: %s: not seen (sessions %d, ends %d, video %d, audio %d, keyframes %d)",
				d, what, len(s.Sessions), s.Ends, s.Video, s.Audio, s.Key)
		}
	}
}

// More waits for n more video units than now: the channel is live.
func (w *Watcher) More(t testing.TB, n int) {
	t.Helper()
	base := w.Stats().Video
	w.Wait(t, 5*time.Second, fmt.Sprintf("%d more video units", n), func(s Stats) bool { return s.Video >= base+n })
}

// FFmpeg is a running ffmpeg process.
type FFmpeg struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

// Start runs ffmpeg with args (after "-hide_banner -nostdin -loglevel
// error"); it is killed when the test ends.
func Start(t testing.TB, args ...string) *FFmpeg {
	t.Helper()
	full := append([]string{"-hide_banner", "-nostdin", "-loglevel", "error"}, args...)
	f := &FFmpeg{cmd: exec.Command("ffmpeg", full...), stderr: &syncBuffer{}, done: make(chan struct{})}
	f.cmd.Stderr = f.stderr
	if err := f.cmd.Start(); err != nil {
		t.Fatalf("start ffmpeg: %v", err)
	}
	go func() {
		f.err = f.cmd.Wait()
		close(f.done)
	}()
	t.Cleanup(func() {
		_ = f.cmd.Process.Signal(syscall.SIGCONT)
		_ = f.cmd.Process.Kill()
		<-f.done
	})
	return f
}

// Wait waits for ffmpeg to exit (failing the test after d) and returns its
// stderr and exit error.
func (f *FFmpeg) Wait(t testing.TB, d time.Duration) (string, error) {
	t.Helper()
	select {
	case <-f.done:
		return f.stderr.String(), f.err
	case <-time.After(d):
		t.Fatalf("ffmpeg still running after %v; stderr: %s", d, f.stderr.String())
		return "", nil
	}
}

// Pause stops the process (SIGSTOP) without closing its sockets: a stalled
// publisher.
func (f *FFmpeg) Pause(t testing.TB) {
	t.Helper()
	if err := f.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
}

// Source returns lavfi test inputs: testsrc2 video (size, fps) and, when
// audio, a 48 kHz sine, both for seconds.
func Source(size string, fps int, audio bool, seconds float64) []string {
	args := []string{"-re", "-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%s:rate=%d", size, fps)}
	if audio {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000")
	}
	return append(args, "-t", fmt.Sprint(seconds))
}

// H264AAC returns encoder options for H.264 (keyframe every gop frames, no
// B-frames unless bframes) and AAC.
func H264AAC(gop, bframes int) []string {
	return []string{"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", fmt.Sprint(gop),
		"-bf", fmt.Sprint(bframes), "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k"}
}

// Logs captures a server's log output.
type Logs struct {
	buf     syncBuffer
	handler slog.Handler
}

// NewLogs returns a capture and a logger writing into it.
func NewLogs() (*Logs, *slog.Logger) {
	l := &Logs{}
	l.handler = slog.NewTextHandler(&l.buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	return l, slog.New(l.handler)
}

// Lines returns the captured lines that contain every one of subs.
func (l *Logs) Lines(subs ...string) []string {
	var out []string
	for line := range strings.SplitSeq(l.buf.String(), "\n") {
		ok := line != ""
		for _, s := range subs {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// Wait waits up to d for a line that contains every one of subs and
// returns it.
func (l *Logs) Wait(t testing.TB, d time.Duration, subs ...string) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if lines := l.Lines(subs...); len(lines) > 0 {
			return lines[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %q after %v; log:\n%s", subs, d, l.buf.String())
		}
		time.Sleep(20 * time.Millisecond) // polling a log; there is nothing to wait on
	}
}

// String returns everything logged.
func (l *Logs) String() string { return l.buf.String() }

// Value returns the value of the metric name with exactly the given
// labels in reg (0 if absent).
func Value(t testing.TB, reg prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := len(m.GetLabel()) == len(labels)
			for _, lp := range m.GetLabel() {
				match = match && labels[lp.GetName()] == lp.GetValue()
			}
			if !match {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			}
		}
	}
	return 0
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
