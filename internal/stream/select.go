package stream

import (
	"fmt"
	"time"

	"onair/internal/media"
)

// Tick applies the input rules at the current time and plays the slate;
// the owner of the stream calls it about every 100 ms. Rules:
//   - the active input is lost when it has delivered no frame for
//     LossAfter: the other input takes over at its next keyframe if it
//     delivers, else the slate plays (when configured) until one does;
//   - an input whose content is bad (SetContent: black, frozen, silent)
//     gives way to the other input when that one's content is fine;
//   - on the backup, the stream switches back to the primary once the
//     primary has delivered fine content for ClearAfter without a loss;
//   - an operator's Select overrides both while the chosen input delivers.
//
// Every change is reported to Config.OnSwitch from here.
func (s *Stream) Tick() {
	now := s.cfg.Now()
	s.mu.Lock()
	if !s.closed {
		s.decide(now)
		s.playSlate(now)
	}
	sw := s.switches
	s.switches = nil
	s.mu.Unlock()
	if s.cfg.OnSwitch != nil {
		for _, x := range sw {
			s.cfg.OnSwitch(x)
		}
	}
}

// decide sets the pending switch, or starts the slate. The caller holds
// s.mu.
func (s *Stream) decide(now time.Time) {
	act := s.active
	if m := s.inputs[s.manual]; m != nil && s.delivering(m, now) {
		if act != m && s.pending != s.manual {
			s.pending, s.reason = s.manual, "manual switch"
		}
		return
	}
	if act != nil && s.delivering(act, now) {
		if other := s.inputs[otherInput(act.input)]; act.bad != "" && s.usable(other, now) {
			// Live but useless (black, frozen, silent): the other input.
			if s.pending != other.input {
				s.pending, s.reason = other.input, fmt.Sprintf("%s input %s", act.input, act.bad)
			}
			return
		}
		prim := s.inputs[Primary]
		if act.input == Backup && s.manual == "" && s.usable(prim, now) && now.Sub(prim.since) >= s.cfg.ClearAfter &&
			s.pending != Primary {
			s.pending, s.reason = Primary, fmt.Sprintf("primary delivering again for %v", s.cfg.ClearAfter)
		}
		return
	}
	// The active input is lost, or nothing is active.
	lost := "no input"
	if act != nil {
		lost = fmt.Sprintf("%s input lost: no frame for %v", act.input, s.cfg.LossAfter)
	}
	for _, ok := range []func(*Publisher, time.Time) bool{s.usable, s.delivering} {
		for _, in := range []Input{Primary, Backup} {
			if p := s.inputs[in]; p != nil && p != act && ok(p, now) {
				if s.pending != in {
					s.pending, s.reason = in, lost
				}
				return
			}
		}
	}
	s.pending = ""
	if s.slate != nil || s.cfg.Slate == nil || s.cur == nil {
		return
	}
	if now.Sub(s.lastInput) <= s.cfg.LossAfter {
		return // a publisher that just left may be back at once
	}
	s.startSlate(now, "both inputs lost")
}

// startSlate ends the session and plays the slate in a new one. The
// caller holds s.mu.
func (s *Stream) startSlate(now time.Time, reason string) {
	loop := s.cfg.Slate(s.cur.Video, s.cur.Audio)
	if loop == nil || len(loop.Frames) == 0 || loop.Period <= 0 || loop.Video == nil {
		return
	}
	if act := s.active; act != nil {
		act.mapped = false
		s.active = nil
	}
	s.endSession()
	s.nextID++
	m := media.NewMapping(s.cfg.Grid, s.epoch, 0, now, s.lastEnd)
	s.cur = &Session{ID: s.nextID, Source: "slate", Input: SlateInput, Video: loop.Video, Audio: loop.Audio, Mapping: m}
	sess := *s.cur
	for r := range s.readers {
		r.pushSession(&sess)
	}
	s.slate = &slatePlayer{loop: loop, mapping: m}
	s.switches = append(s.switches, Switch{From: s.shown, To: SlateInput, Reason: reason, At: now})
	s.shown = SlateInput
}

// stopSlate ends the slate (its session ends when an input starts its
// own). The caller holds s.mu.
func (s *Stream) stopSlate() { s.slate = nil }

// slatePlayer emits the slate loop in real time.
type slatePlayer struct {
	loop    *SlateLoop
	mapping media.Mapping // source time 0 is the session's anchor
	video   int64         // frames emitted
	audio   int64         // AAC frames emitted
}

// maxSlateBurst bounds how much slate one Tick emits.
const maxSlateBurst = 10 * media.Timescale

// playSlate emits the slate units due by now, in decode order. The
// caller holds s.mu.
func (s *Stream) playSlate(now time.Time) {
	sp := s.slate
	if sp == nil {
		return
	}
	l := sp.loop
	due := media.Ticks(now.Sub(sp.mapping.AnchorWall))
	due = min(due, sp.nextVideo()+maxSlateBurst)
	for {
		v, a := sp.nextVideo(), int64(-1)
		if l.Audio != nil && len(l.Silence) > 0 {
			a = sp.nextAudio()
		}
		switch {
		case a >= 0 && a <= v && a <= due:
			u := media.Unit{Kind: media.KindAudio, PTS: a, DTS: a, Key: true, Audio: l.Silence, Wall: now}
			sp.audio++
			s.emit(&u, sp.mapping)
		case v <= due:
			f := l.Frames[sp.video%int64(len(l.Frames))]
			base := sp.video / int64(len(l.Frames)) * l.Period
			u := media.Unit{Kind: media.KindVideo, PTS: base + f.PTS, DTS: base + f.DTS, Key: f.Key, NALUs: f.NALUs, Wall: now}
			sp.video++
			s.emit(&u, sp.mapping)
		default:
			return
		}
	}
}

// nextVideo is the source DTS of the next video frame.
func (sp *slatePlayer) nextVideo() int64 {
	n := int64(len(sp.loop.Frames))
	return sp.video/n*sp.loop.Period + sp.loop.Frames[sp.video%n].DTS
}

// nextAudio is the source DTS of the next AAC frame.
func (sp *slatePlayer) nextAudio() int64 {
	return sp.audio * 1024 * media.Timescale / int64(sp.loop.Audio.SampleRate)
}

// usable reports whether p delivers content that is not known to be
// black, frozen or silent.
func (s *Stream) usable(p *Publisher, now time.Time) bool {
	return s.delivering(p, now) && p.bad == ""
}

// SetContent reports what a content check found on input in: why is ""
// when the content is fine, else what is wrong ("black for 2s"). While
// the active input's content is bad and the other input's is not, the
// other takes over; the primary's clear time counts from when its
// content became fine.
func (s *Stream) SetContent(in Input, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.inputs[in]
	if p == nil || p.bad == why {
		return
	}
	if why == "" {
		p.since = s.cfg.Now()
	}
	p.bad = why
}

// Select makes in the input of choice (Primary or Backup) while it
// delivers; "" returns to the automatic rules.
func (s *Stream) Select(in Input) error {
	if in != "" && in != Primary && in != Backup {
		return fmt.Errorf("stream: unknown input %q", in)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.manual = in
	return nil
}

// InputState is one input as the selector sees it.
type InputState struct {
	Connected  bool      `json:"connected"`
	Delivering bool      `json:"delivering"`
	Content    string    `json:"content,omitempty"` // what a content check found wrong, "" fine
	Source     string    `json:"source,omitempty"`
	Since      time.Time `json:"since,omitzero"`      // start of its current run of delivery
	LastFrame  time.Time `json:"last_frame,omitzero"` // its newest frame
}

// State is the selector's state.
type State struct {
	Active  Input                `json:"active"`            // the input readers get media from: primary, backup, slate or ""
	Pending Input                `json:"pending,omitempty"` // switching to it at its next keyframe
	Manual  Input                `json:"manual,omitempty"`  // an operator's choice
	Inputs  map[Input]InputState `json:"inputs"`
}

// State returns the selector's state.
func (s *Stream) State() State {
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{Active: s.shown, Pending: s.pending, Manual: s.manual, Inputs: map[Input]InputState{}}
	if s.cur == nil {
		st.Active = ""
	}
	for _, in := range []Input{Primary, Backup} {
		is := InputState{}
		if p := s.inputs[in]; p != nil {
			is = InputState{Connected: true, Delivering: s.delivering(p, now), Content: p.bad, Source: p.source, Since: p.since, LastFrame: p.last}
		}
		st.Inputs[in] = is
	}
	return st
}
