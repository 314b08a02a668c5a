package transcode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/stream"
)

// Pipeline transcodes one channel. Create it with NewPipeline and run it
// with Run.
type Pipeline struct {
	channel string
	cfg     Config
	src     *stream.Stream
	out     Output
	log     *slog.Logger
	m       *metrics
	running atomic.Bool

	outSpeed speedMeter // ladder output media time
	inSpeed  speedMeter // input video media time

	// readerHook, when set (tests), is called once Run's stream reader
	// exists, so a test can publish without racing it.
	readerHook func()

	mu     sync.Mutex
	status Status
	open   map[string]bool // renditions with an open Sink
}

// NewPipeline validates cfg (after defaults) and allocates a pipeline for
// channel. It starts nothing. log may be nil (discard); reg may be nil
// (metrics unregistered).
func NewPipeline(channel string, cfg Config, src *stream.Stream, out Output, log *slog.Logger, reg prometheus.Registerer) (*Pipeline, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("transcode %s: %w", channel, err)
	}
	if src == nil || out == nil {
		return nil, fmt.Errorf("transcode %s: stream and output are required", channel)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(reg, channel)
	if err != nil {
		return nil, fmt.Errorf("transcode %s: %w", channel, err)
	}
	return &Pipeline{
		channel: channel,
		cfg:     cfg,
		src:     src,
		out:     out,
		log:     log.With("role", "transcode"),
		m:       m,
		status:  Status{State: StateIdle},
		open:    map[string]bool{},
	}, nil
}

// Run reads the channel's stream until ctx ends or the stream is closed
// (both return nil). Each publisher session gets its own ffmpeg; when Run
// returns, ffmpeg has been stopped and every Sink closed. Run may be
// called once.
func (p *Pipeline) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return fmt.Errorf("transcode %s: Run called twice", p.channel)
	}
	r := p.src.NewReader()
	defer r.Close()
	if p.readerHook != nil {
		p.readerHook()
	}

	var wg sync.WaitGroup
	monCtx, stopMon := context.WithCancel(ctx)
	wg.Go(func() { p.monitor(monCtx) })

	var cur *session
	defer func() {
		if cur != nil {
			cur.abort()
		}
		stopMon()
		wg.Wait()
		p.m.speed.Set(0)
		p.setState(StateStopped, 0)
	}()
	for {
		ev, err := r.Read(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, stream.ErrClosed) {
				return nil
			}
			return fmt.Errorf("transcode %s: read stream: %w", p.channel, err)
		}
		switch ev.Type {
		case stream.EventSession:
			if cur != nil {
				cur.end()
			}
			cur = p.startSession(ctx, ev.Session)
		case stream.EventUnit:
			if cur != nil {
				cur.unit(ev.Unit)
			}
		case stream.EventEnd:
			if cur != nil && cur.info.ID == ev.SessionID {
				cur.end()
				cur = nil
				p.setState(StateIdle, 0)
			}
		}
	}
}
