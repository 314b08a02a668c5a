package stream

import (
	"context"
	"strings"
	"testing"
	"time"

	"onair/internal/media"
)

// rig drives a stream with a fake clock: frames at 30 fps, a keyframe
// every 60 (2 s), the same source timestamps on every input (one encode
// sent to both), and a reader that records what downstream sees.
type rig struct {
	t        *testing.T
	now      time.Time
	s        *Stream
	r        *Reader
	switches []Switch
	tracks   *media.Track
}

const frame = media.Timescale / 30

func newRig(t *testing.T, slate bool) *rig {
	g := &rig{t: t, now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC),
		tracks: &media.Track{Kind: media.KindVideo, Codec: media.CodecH264, Width: 320, Height: 240, SPS: []byte{1}, PPS: []byte{2}}}
	cfg := Config{Grid: grid, Now: func() time.Time { return g.now }, LossAfter: time.Second, ClearAfter: 3 * time.Second,
		ReaderQueue: 100000, OnSwitch: func(s Switch) { g.switches = append(g.switches, s) }}
	if slate {
		cfg.Slate = func(v, a *media.Track) *SlateLoop {
			frames := make([]media.Unit, 60)
			for i := range frames {
				frames[i] = media.Unit{Kind: media.KindVideo, DTS: int64(i) * frame, PTS: int64(i) * frame, Key: i == 0, NALUs: [][]byte{{9}}}
			}
			return &SlateLoop{Video: &media.Track{Kind: media.KindVideo, Codec: media.CodecH264, Width: v.Width, Height: v.Height, SPS: []byte{7}, PPS: []byte{8}},
				Frames: frames, Period: 60 * frame}
		}
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g.s, g.r = s, s.NewReader()
	return g
}

func (g *rig) publish(in Input) *Publisher {
	p, err := g.s.PublishInput(in, string(in), g.tracks, nil)
	if err != nil {
		g.t.Fatal(err)
	}
	return p
}

// run advances frames i in [from, to): the clock moves one frame, each
// live publisher writes frame i, Tick runs.
func (g *rig) run(from, to int64, pubs ...*Publisher) {
	for i := from; i < to; i++ {
		g.now = g.now.Add(time.Second / 30)
		for _, p := range pubs {
			if p != nil {
				u := video(i*frame, i%60 == 0)
				u.NALUs = [][]byte{{byte(len(p.input))}} // marks which input it came from
				if err := p.Write(u); err != nil {
					g.t.Fatal(err)
				}
			}
		}
		g.s.Tick()
	}
}

// drain returns what the reader holds.
func (g *rig) drain() []Event {
	var out []Event
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		ev, err := g.r.Read(ctx)
		cancel()
		if err != nil {
			return out
		}
		out = append(out, ev)
	}
}

// One encode on both inputs: the primary goes away, the backup carries on
// in the same session with its frames at exactly their channel times; the
// primary returns and takes over again after the clear time.
func TestFailoverAndSwitchBack(t *testing.T) {
	g := newRig(t, false)
	prim, back := g.publish(Primary), g.publish(Backup)
	g.run(0, 100, prim, back)
	prim.Close() // the primary's connection drops at frame 100
	g.run(100, 200, back)
	prim = g.publish(Primary)
	g.run(200, 400, prim, back)

	var sessions int
	var lastDTS int64 = -1
	var firstBackup, lastPrimary int64 = -1, -1
	origin := int64(-1)
	for _, ev := range g.drain() {
		switch ev.Type {
		case EventSession:
			sessions++
		case EventEnd:
			t.Errorf("session ended at a switch between identical inputs")
		case EventUnit:
			u := ev.Unit
			if u.DTS <= lastDTS {
				t.Fatalf("DTS went back: %d after %d", u.DTS, lastDTS)
			}
			lastDTS = u.DTS
			if origin < 0 {
				origin = u.DTS // source frame 0
			}
			src := (u.DTS - origin) / frame
			if src < 100 {
				lastPrimary = src
			} else if firstBackup < 0 {
				firstBackup = src
			}
			if (u.DTS-origin)%frame != 0 {
				t.Fatalf("frame at channel time %d is off the source's frame times", u.DTS)
			}
		}
	}
	if sessions != 1 {
		t.Errorf("%d sessions, want 1", sessions)
	}
	// The backup takes over at its first keyframe after the loss (frame
	// 120): media moves forward by 0.7 s, less than a segment.
	if lastPrimary != 99 || firstBackup != 120 {
		t.Errorf("primary until frame %d, backup from %d; want 99 and 120", lastPrimary, firstBackup)
	}
	want := []string{"primary<-", "backup<-primary", "primary<-backup"}
	var got []string
	for _, s := range g.switches {
		got = append(got, string(s.To)+"<-"+string(s.From))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("switches %v, want %v", got, want)
	}
	if !strings.Contains(g.switches[1].Reason, "primary input closed") || !strings.Contains(g.switches[2].Reason, "delivering again") {
		t.Errorf("reasons: %q, %q", g.switches[1].Reason, g.switches[2].Reason)
	}
	// Switch back happened at the primary's first keyframe after 3 s of
	// delivery (from frame 200: frame 300), 6 s after the failover.
	if at := g.switches[2].At.Sub(g.switches[1].At); at < 5900*time.Millisecond || at > 6100*time.Millisecond {
		t.Errorf("switched back %v after failing over, want 6 s", at)
	}
	if st := g.s.State(); st.Active != Primary || !st.Inputs[Backup].Delivering {
		t.Errorf("state %+v", st)
	}
}

// A publisher that freezes (connected, no frames) is lost after
// LossAfter.
func TestFrozenPrimaryIsLost(t *testing.T) {
	g := newRig(t, false)
	prim, back := g.publish(Primary), g.publish(Backup)
	g.run(0, 90, prim, back)
	g.run(90, 200, back) // primary stays connected but silent
	if len(g.switches) != 2 || g.switches[1].To != Backup || !strings.Contains(g.switches[1].Reason, "no frame for 1s") {
		t.Fatalf("switches %+v", g.switches)
	}
	// Lost just after frame 120 (1 s without a frame), switched at the
	// backup's next keyframe (frame 180).
	if d := g.switches[1].At.Sub(g.switches[0].At); d < 5900*time.Millisecond || d > 6100*time.Millisecond {
		t.Errorf("failover %v after start, want 6 s (frame 180)", d)
	}
}

// Both inputs gone: the slate plays in a session of its own, in real time,
// and the primary's return starts a new session; time never goes back.
func TestSlateWhileBothInputsAreLost(t *testing.T) {
	g := newRig(t, true)
	prim, back := g.publish(Primary), g.publish(Backup)
	g.run(0, 60, prim, back)
	prim.Close()
	back.Close()
	g.run(60, 300) // 8 s without input
	prim = g.publish(Primary)
	g.run(300, 420, prim)

	var inputs []Input
	var lastDTS int64 = -1
	slateFrames := 0
	for _, ev := range g.drain() {
		switch ev.Type {
		case EventSession:
			inputs = append(inputs, ev.Session.Input)
		case EventUnit:
			if ev.Unit.DTS <= lastDTS {
				t.Fatalf("DTS went back: %d after %d", ev.Unit.DTS, lastDTS)
			}
			lastDTS = ev.Unit.DTS
			if ev.Unit.NALUs[0][0] == 9 {
				slateFrames++
			}
		}
	}
	if len(inputs) != 3 || inputs[0] != Primary || inputs[1] != SlateInput || inputs[2] != Primary {
		t.Fatalf("sessions %v, want primary, slate, primary", inputs)
	}
	// About 8 s of frames minus the loss time and the wait for a keyframe.
	if slateFrames < 180 || slateFrames > 240 {
		t.Errorf("%d slate frames over 8 s without input", slateFrames)
	}
	var got []string
	for _, s := range g.switches {
		got = append(got, string(s.To))
	}
	if strings.Join(got, ",") != "primary,slate,primary" || g.switches[1].Reason != "both inputs lost" {
		t.Errorf("switches %+v", g.switches)
	}
}

func TestManualSelect(t *testing.T) {
	g := newRig(t, false)
	prim, back := g.publish(Primary), g.publish(Backup)
	g.run(0, 30, prim, back)
	if err := g.s.Select(Backup); err != nil {
		t.Fatal(err)
	}
	g.run(30, 200, prim, back)
	if st := g.s.State(); st.Active != Backup || st.Manual != Backup {
		t.Fatalf("state after Select(backup): %+v", st)
	}
	if g.switches[1].Reason != "manual switch" {
		t.Errorf("reason %q", g.switches[1].Reason)
	}
	if err := g.s.Select("tertiary"); err == nil {
		t.Error("Select of an unknown input succeeded")
	}
	// Back to automatic: the primary delivers, so after the clear time it
	// is chosen again.
	g.s.Select("")
	g.run(200, 400, prim, back)
	if st := g.s.State(); st.Active != Primary {
		t.Errorf("automatic again: active %s, want primary", st.Active)
	}
	if _, err := g.s.PublishInput(Backup, "x", g.tracks, nil); err == nil {
		t.Error("a second backup publisher was accepted")
	}
}

// The primary keeps delivering but turns black: the backup takes over;
// once the primary's picture is back for the clear time, it returns.
func TestBadContentFailsOver(t *testing.T) {
	g := newRig(t, false)
	prim, back := g.publish(Primary), g.publish(Backup)
	g.run(0, 90, prim, back)
	g.s.SetContent(Primary, "black for 2s")
	g.run(90, 150, prim, back)
	if st := g.s.State(); st.Active != Backup || st.Inputs[Primary].Content != "black for 2s" {
		t.Fatalf("state %+v", st)
	}
	if g.switches[1].Reason != "primary input black for 2s" {
		t.Errorf("reason %q", g.switches[1].Reason)
	}
	g.s.SetContent(Primary, "")
	g.run(150, 200, prim, back) // 1.7 s: not yet
	if st := g.s.State(); st.Active != Backup {
		t.Fatalf("switched back before the clear time: %+v", st)
	}
	g.run(200, 310, prim, back) // fine for 3 s at frame 240, keyframe at 300
	if st := g.s.State(); st.Active != Primary {
		t.Fatalf("not back on the primary: %+v", st)
	}
	// Both bad: stay where we are rather than flap.
	g.s.SetContent(Primary, "silent for 2s")
	g.s.SetContent(Backup, "silent for 2s")
	g.run(310, 400, prim, back)
	if st := g.s.State(); st.Active != Primary || st.Pending != "" {
		t.Errorf("both silent: %+v, want the primary kept", st)
	}
}

// Both inputs connect together and the backup's keyframe comes first: the
// primary gets the loss time to deliver before the backup is taken.
func TestStartPrefersPrimary(t *testing.T) {
	g := newRig(t, false)
	prim, back := g.publish(Primary), g.publish(Backup)
	g.run(0, 20, back) // 0.67 s: backup only
	if st := g.s.State(); st.Active != "" {
		t.Fatalf("took %s while the primary had just connected", st.Active)
	}
	g.run(20, 70, prim, back)
	if st := g.s.State(); st.Active != Primary {
		t.Fatalf("active %s, want primary", st.Active)
	}
	g2 := newRig(t, false)
	g2.publish(Primary) // connected, never delivers
	back2 := g2.publish(Backup)
	g2.run(0, 130, back2)
	if st := g2.s.State(); st.Active != Backup {
		t.Fatalf("silent primary: active %s, want backup", st.Active)
	}
}
