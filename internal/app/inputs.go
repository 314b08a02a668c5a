package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"onair/internal/config"
	"onair/internal/control"
	"onair/internal/media"
	"onair/internal/slate"
	"onair/internal/store"
	"onair/internal/stream"
)

// tickEvery is how often a channel's input rules run.
const tickEvery = 100 * time.Millisecond

// tick runs st's input rules until ctx ends.
func tick(ctx context.Context, st *stream.Stream) {
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			st.Tick()
		}
	}
}

// backupKey makes a channel's backup stream key.
func backupKey(name string) string { return name + "-backup-" + randomToken(10) }

// slateCache holds rendered slate loops by source shape; rendering runs
// in the background (one ffmpeg per shape, once).
type slateCache struct {
	mu      sync.Mutex
	loops   map[string]*stream.SlateLoop
	pending map[string]bool
}

// shapeKey names the shape a slate loop is rendered for.
func shapeKey(video, audio *media.Track) string {
	k := fmt.Sprintf("%dx%d@%g", video.Width, video.Height, video.FPS)
	if audio != nil {
		k += fmt.Sprintf("/%d/%d", audio.SampleRate, audio.Channels)
	}
	return k
}

// slateLoop returns the loop for a session shaped like video and audio,
// or nil while it is being rendered (rendering starts on the first ask).
// It is stream.Config.Slate; it never blocks.
func (m *channels) slateLoop(in config.Inputs, video, audio *media.Track) *stream.SlateLoop {
	if video == nil {
		return nil
	}
	key := shapeKey(video, audio) + "|" + in.SlateImage + "|" + in.SlateText
	c := &m.slates
	c.mu.Lock()
	defer c.mu.Unlock()
	if l := c.loops[key]; l != nil {
		return l
	}
	if c.pending[key] {
		return nil
	}
	if c.pending == nil {
		c.pending, c.loops = map[string]bool{}, map[string]*stream.SlateLoop{}
	}
	c.pending[key] = true
	v, a := *video, cloneAudio(audio)
	m.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		opts := slate.Options{FFmpeg: m.cfg.Transcode.FFmpeg, Image: in.SlateImage, Text: in.SlateText, Duration: m.cfg.Segments.Duration}
		l, err := slate.NewLoop(ctx, opts, &v, a)
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.pending, key)
		if err != nil {
			m.log.Error("slate not rendered: channels of this shape will stop, not show a slate, while both inputs are lost", "shape", key, "err", err)
			return
		}
		sl := &stream.SlateLoop{Video: &l.Video, Frames: l.Frames, Period: l.Period, Silence: l.Silence}
		if a != nil {
			sl.Audio = &l.Audio
		}
		c.loops[key] = sl
		m.log.Debug("slate rendered", "shape", key)
	})
	return nil
}

func cloneAudio(a *media.Track) *media.Track {
	if a == nil {
		return nil
	}
	c := *a
	return &c
}

// onSwitch reports a channel's input switches: a log line, an event on
// NATS (kind input.switch), and a slate rendered ahead of need for the
// new input's shape.
func (m *channels) onSwitch(name string, in config.Inputs) func(stream.Switch) {
	return func(sw stream.Switch) {
		from := string(sw.From)
		if from == "" {
			from = "none"
		}
		m.log.Info("input switch", "channel", name, "from", from, "to", sw.To, "reason", sw.Reason)
		if in.Slate && sw.To != stream.SlateInput {
			m.mu.Lock()
			run := m.running[name]
			m.mu.Unlock()
			if run != nil {
				if h := run.stream.InputHealth(sw.To); h.Video != nil {
					m.slateLoop(in, h.Video, h.Audio)
				}
			}
		}
		m.wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := m.st.PublishEvent(ctx, store.Event{
				At: sw.At, Kind: "input.switch", Channel: name, Source: "serve",
				Reason: sw.Reason, Data: map[string]any{"from": from, "to": string(sw.To)},
			})
			if err != nil {
				m.log.Warn("input switch event not published", "channel", name, "err", err)
			}
		})
	}
}

// SelectInput implements control.Manager.
func (m *channels) SelectInput(ctx context.Context, name, input, baseURL string) (control.Channel, error) {
	rec, err := m.st.GetChannel(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return control.Channel{}, fmt.Errorf("%w: channel %s", control.ErrNotFound, name)
	}
	if err != nil {
		return control.Channel{}, err
	}
	m.mu.Lock()
	run := m.running[name]
	m.mu.Unlock()
	if run == nil {
		return control.Channel{}, fmt.Errorf("%w: channel %s is stopped", control.ErrConflict, name)
	}
	in := stream.Input(input)
	if input == "auto" {
		in = ""
	}
	if err := run.stream.Select(in); err != nil {
		return control.Channel{}, fmt.Errorf("%w: %v", control.ErrInvalid, err)
	}
	m.log.Info("input of choice set", "channel", name, "input", input)
	return m.status(rec, baseURL), nil
}

// inputsStatus is the selector state as the API shows it.
func inputsStatus(st stream.State) *control.Inputs {
	conv := func(s stream.InputState) control.InputState {
		return control.InputState{Connected: s.Connected, Delivering: s.Delivering, Source: s.Source, Since: s.Since, LastFrame: s.LastFrame}
	}
	return &control.Inputs{Active: string(st.Active), Pending: string(st.Pending), Manual: string(st.Manual),
		Primary: conv(st.Inputs[stream.Primary]), Backup: conv(st.Inputs[stream.Backup])}
}
