package app

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/config"
	"onair/internal/control"
	"onair/internal/failover"
	"onair/internal/ingest"
	"onair/internal/live"
	"onair/internal/media"
	"onair/internal/objstore"
	"onair/internal/packager"
	"onair/internal/session"
	"onair/internal/store"
	"onair/internal/stream"
	"onair/internal/transcode"
)

// channels runs every enabled channel: its stream and its transcode
// pipeline. It implements control.Manager and ingest.Router.
type channels struct {
	cfg   config.Config
	st    *store.Store
	objs  objstore.Store
	index *live.Index
	pkg   *packager.Packager
	log   *slog.Logger
	reg   prometheus.Registerer
	drm   *drm // content keys; nil in tests without DRM

	// Bound ingest addresses, for ingest URLs.
	rtmpAddr, srtAddr net.Addr

	failovers *prometheus.CounterVec // onair_pipeline_failovers_total{channel,cause}
	access    *access                // signed playback; nil in tests without it
	sessions  *session.Store         // viewer sessions; nil when off

	mu      sync.Mutex
	ctx     context.Context // parent of every channel's goroutines; set by run
	wg      sync.WaitGroup
	running map[string]*channelRun
	byKey   map[string]keyRoute
	slates  slateCache
}

// keyRoute is what a stream key publishes to.
type keyRoute struct {
	channel string
	input   stream.Input
}

type channelRun struct {
	rec    store.Channel
	grid   media.Grid
	stream *stream.Stream
	pipes  []*pipelineRun // A, and B in standard mode
	// protect is the channel's encryption (nil: clear).
	protect *packager.Protection
	ctl     *failover.Controller
	grp     group
	poke    chan struct{} // wakes the failover controller (capacity 1)
	cancel  context.CancelFunc
	done    chan struct{} // closed when every pipeline has stopped
}

func newChannels(cfg config.Config, st *store.Store, objs objstore.Store, index *live.Index, pkg *packager.Packager, log *slog.Logger, reg prometheus.Registerer) *channels {
	return &channels{cfg: cfg, st: st, objs: objs, index: index, pkg: pkg, log: log, reg: reg,
		running: map[string]*channelRun{}, byKey: map[string]keyRoute{},
		failovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "onair_pipeline_failovers_total",
			Help: "Changes of a standard channel's active pipeline, by cause (manifest_age, encoder_down, stopped, manual, alert).",
		}, []string{"channel", "cause"})}
}

// run starts every enabled channel and stops them all when ctx ends.
func (m *channels) run(ctx context.Context) error {
	m.mu.Lock()
	m.ctx = ctx
	m.mu.Unlock()
	recs, err := m.st.ListChannels(ctx)
	if err != nil {
		return fmt.Errorf("load channels: %w", err)
	}
	for _, rec := range recs {
		if m.access != nil {
			m.access.set(rec.Name, rec.Access)
			m.access.setGeo(rec.Name, rec.Geo)
		}
		if rec.Enabled {
			if err := m.start(ctx, rec); err != nil {
				m.log.Error("channel did not start", "channel", rec.Name, "err", err)
			}
		}
	}
	<-ctx.Done()
	m.mu.Lock()
	for name, run := range m.running {
		run.cancel()
		run.stream.Close()
		delete(m.running, name)
	}
	m.mu.Unlock()
	m.wg.Wait()
	return nil
}

// start begins running a channel. The caller must not hold m.mu.
func (m *channels) start(ctx context.Context, rec store.Channel) error {
	if rec.BackupStreamKey == "" {
		// Channels made before backup inputs existed get a key now.
		rec.BackupStreamKey = backupKey(rec.Name)
		if err := m.st.PutChannel(ctx, rec); err != nil {
			return fmt.Errorf("channel %s: store its backup key: %w", rec.Name, err)
		}
	}
	grid := m.cfg.Grid(rec.LowLatency)
	inputs, err := m.channelInputs(rec.Inputs)
	if err != nil {
		return fmt.Errorf("channel %s: %w", rec.Name, err)
	}
	epoch, _, err := m.st.Epoch(ctx, rec.Name)
	if err != nil {
		return err
	}
	protect, err := m.drm.protection(ctx, rec)
	if err != nil {
		return fmt.Errorf("channel %s: content keys: %w", rec.Name, err)
	}
	names := []string{live.PipelineA}
	if m.mode(rec) == config.PipelinesStandard {
		names = append(names, live.PipelineB)
	}
	var ichs []*live.Channel
	for _, p := range names {
		ich := m.index.Channel(live.PipelineID(rec.Name, p), grid)
		if !epoch.Wall.IsZero() {
			ich.SetEpoch(epoch)
		}
		ichs = append(ichs, ich)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx == nil || m.ctx.Err() != nil {
		return errors.New("server is shutting down")
	}
	if _, ok := m.running[rec.Name]; ok {
		return nil
	}
	runCtx, cancel := context.WithCancel(m.ctx)
	name := rec.Name
	var st *stream.Stream // set below; the content checks' verdicts go to it
	checks, err := m.newContentChecks(name, inputs, func(in stream.Input, why string) {
		if st != nil {
			st.SetContent(in, why)
		}
	})
	if err != nil {
		cancel()
		return err
	}
	var tap func(stream.Input, *media.Unit)
	var onInput func(stream.Input, *media.Track, *media.Track)
	if checks != nil {
		tap, onInput = checks.tap, checks.onInput
	}
	var slate func(video, audio *media.Track) *stream.SlateLoop
	if inputs.Slate {
		slate = func(video, audio *media.Track) *stream.SlateLoop { return m.slateLoop(inputs, video, audio) }
	}
	st, err = stream.New(stream.Config{
		Tap:        tap,
		OnInput:    onInput,
		Grid:       grid,
		Epoch:      epoch,
		LossAfter:  inputs.LossAfter,
		ClearAfter: inputs.ClearAfter,
		Slate:      slate,
		OnSwitch:   m.onSwitch(name, inputs),
		OnEpoch: func(e media.Epoch) {
			for _, ich := range ichs {
				ich.SetEpoch(e)
			}
			// Persist off the writer's path; first writer wins in the store.
			m.wg.Add(1)
			go func() {
				defer m.wg.Done()
				pctx, pcancel := context.WithTimeout(context.WithoutCancel(runCtx), 10*time.Second)
				defer pcancel()
				if got, err := m.st.SetEpoch(pctx, name, e); err != nil {
					m.log.Error("could not persist channel clock epoch", "channel", name, "err", err)
				} else if !got.Wall.Equal(e.Wall) {
					m.log.Warn("channel clock epoch already stored by another writer", "channel", name, "stored", got.Wall)
				}
			}()
		},
	})
	if err != nil {
		cancel()
		return err
	}
	tcfg := transcode.Config{
		FFmpeg:      m.cfg.Transcode.FFmpeg,
		Ladder:      m.cfg.Transcode.Ladder,
		Passthrough: m.cfg.Transcode.Passthrough,
		Grid:        grid,
		LowLatency:  rec.LowLatency,
		Threads:     m.cfg.Transcode.Threads,
		// The other pipeline has a failed encoder's unfinished segment whole.
		AbortOnFailure: len(names) > 1,
	}
	ctl, err := m.newController(grid.Segment)
	if err != nil {
		cancel()
		return err
	}
	run := &channelRun{rec: rec, grid: grid, stream: st, protect: protect, ctl: ctl, poke: make(chan struct{}, 1),
		grp: group{changed: make(chan struct{})}, cancel: cancel, done: make(chan struct{})}
	for _, p := range names {
		run.pipes = append(run.pipes, newPipelineRun(name, p))
	}
	m.running[name] = run
	m.byKey[rec.StreamKey] = keyRoute{name, stream.Primary}
	m.byKey[rec.BackupStreamKey] = keyRoute{name, stream.Backup}
	m.wg.Go(func() { tick(runCtx, st) })
	if checks != nil {
		m.wg.Go(func() { checks.run(runCtx, m.log.With("channel", name).Warn) })
	}
	var pipes sync.WaitGroup
	for _, pr := range run.pipes {
		pipes.Go(func() { m.runPipeline(runCtx, run, pr, tcfg) })
	}
	if len(run.pipes) > 1 {
		pipes.Go(func() { m.superviseFailover(runCtx, run) })
	}
	m.wg.Go(func() {
		defer close(run.done)
		pipes.Wait()
	})
	m.log.Info("channel started", "channel", name, "segment", grid.Segment, "part", grid.Part, "pipelines", len(run.pipes))
	return nil
}

// stop ends a running channel: its publisher is cut and its pipeline ends.
func (m *channels) stop(name string) {
	m.mu.Lock()
	run, ok := m.running[name]
	if ok {
		delete(m.running, name)
		delete(m.byKey, run.rec.StreamKey)
		delete(m.byKey, run.rec.BackupStreamKey)
	}
	m.mu.Unlock()
	if !ok {
		return
	}
	run.cancel()
	run.stream.Close()
	<-run.done
	m.log.Info("channel stopped", "channel", name)
}

// Route implements ingest.Router.
func (m *channels) Route(key string) (ingest.Target, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	route, ok := m.byKey[key]
	if !ok {
		return ingest.Target{}, ingest.ErrUnknownKey
	}
	run := m.running[route.channel]
	return ingest.Target{Channel: route.channel, Stream: run.stream, Passphrase: run.rec.SRTPassphrase, Input: route.input}, nil
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// CreateChannel implements control.Manager.
func (m *channels) CreateChannel(ctx context.Context, spec control.ChannelSpec, baseURL string) (control.Channel, error) {
	if !control.ValidChannelName(spec.Name) {
		return control.Channel{}, fmt.Errorf("%w: channel name %q: use 1-63 lowercase letters, digits and '-', starting with a letter or digit", control.ErrInvalid, spec.Name)
	}
	rec := store.Channel{
		Name:            spec.Name,
		Tenant:          spec.Tenant,
		StreamKey:       spec.Name + "-" + randomToken(10),
		BackupStreamKey: backupKey(spec.Name),
		SRTPassphrase:   randomToken(15),
		Enabled:         true,
		LowLatency:      spec.LowLatency,
		CreatedAt:       time.Now().UTC().Truncate(time.Millisecond),
		Pipelines:       spec.Pipelines,
		Access:          spec.Access,
	}
	if rec.Access == accessPublic {
		rec.Access = ""
	}
	gr, err := storeGeo(spec.Geo)
	if err != nil {
		return control.Channel{}, err
	}
	rec.Geo = gr
	rec.DRM = storeDRM(spec.DRM)
	if rec.Pipelines == "" {
		rec.Pipelines = m.cfg.Pipelines.Mode
	}
	if spec.Inputs != nil {
		in, err := inputSettings(*spec.Inputs)
		if err != nil {
			return control.Channel{}, err
		}
		rec.Inputs = in
	}
	if _, err := m.channelInputs(rec.Inputs); err != nil {
		return control.Channel{}, fmt.Errorf("%w: %v", control.ErrInvalid, err)
	}
	if err := m.st.CreateChannel(ctx, rec); err != nil {
		if errors.Is(err, store.ErrExists) {
			return control.Channel{}, fmt.Errorf("%w: channel %s already exists", control.ErrConflict, spec.Name)
		}
		return control.Channel{}, err
	}
	if m.access != nil {
		m.access.set(rec.Name, rec.Access)
		m.access.setGeo(rec.Name, rec.Geo)
	}
	if err := m.start(ctx, rec); err != nil {
		return control.Channel{}, err
	}
	m.log.Info("channel created", "channel", rec.Name, "low_latency", rec.LowLatency)
	return m.status(rec, baseURL), nil
}

// ChannelTenant implements control.Manager.
func (m *channels) ChannelTenant(ctx context.Context, name string) (string, error) {
	rec, err := m.st.GetChannel(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("%w: channel %s", control.ErrNotFound, name)
	}
	if err != nil {
		return "", err
	}
	return rec.Tenant, nil
}

// GetChannel implements control.Manager.
func (m *channels) GetChannel(ctx context.Context, name, baseURL string) (control.Channel, error) {
	rec, err := m.st.GetChannel(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return control.Channel{}, fmt.Errorf("%w: channel %s", control.ErrNotFound, name)
	}
	if err != nil {
		return control.Channel{}, err
	}
	return m.status(rec, baseURL), nil
}

// ListChannels implements control.Manager.
func (m *channels) ListChannels(ctx context.Context, baseURL string) ([]control.Channel, error) {
	recs, err := m.st.ListChannels(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]control.Channel, 0, len(recs))
	for _, rec := range recs {
		out = append(out, m.status(rec, baseURL))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// DeleteChannel implements control.Manager.
func (m *channels) DeleteChannel(ctx context.Context, name string) error {
	rec, err := m.st.GetChannel(ctx, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := m.st.DeleteChannel(ctx, name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: channel %s", control.ErrNotFound, name)
		}
		return err
	}
	m.stop(name)
	if m.access != nil {
		m.access.set(name, "")
		m.access.setGeo(name, store.GeoRule{})
	}
	for _, p := range []string{live.PipelineA, live.PipelineB} {
		m.index.Remove(live.PipelineID(name, p))
	}
	// Its content keys go with it: a name reused later gets new keys.
	if err := m.drm.forget(ctx, name); err != nil {
		m.log.Warn("could not delete the channel's content keys", "channel", name, "err", err)
	}
	// And its viewer sessions, with their personal data.
	if m.sessions != nil {
		if err := m.sessions.DeleteChannel(ctx, rec.Tenant, name); err != nil {
			m.log.Warn("could not delete the channel's viewer sessions", "channel", name, "err", err)
		}
	}
	// Media objects go in the background; a name reused later starts a
	// new clock, so nothing may be left to collide with.
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, prefix := range storagePrefixes(name) {
			keys, err := m.objs.List(dctx, prefix)
			if err != nil {
				m.log.Warn("could not list deleted channel's objects", "channel", name, "prefix", prefix, "err", err)
				continue
			}
			for _, k := range keys {
				if err := m.objs.Delete(dctx, k); err != nil {
					m.log.Warn("could not delete object", "channel", name, "key", k, "err", err)
				}
			}
		}
	}()
	m.log.Info("channel deleted", "channel", name)
	return nil
}

// SetChannelEnabled implements control.Manager.
func (m *channels) SetChannelEnabled(ctx context.Context, name string, enabled bool, baseURL string) (control.Channel, error) {
	rec, err := m.st.GetChannel(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return control.Channel{}, fmt.Errorf("%w: channel %s", control.ErrNotFound, name)
	}
	if err != nil {
		return control.Channel{}, err
	}
	if rec.Enabled != enabled {
		rec.Enabled = enabled
		if err := m.st.PutChannel(ctx, rec); err != nil {
			return control.Channel{}, err
		}
	}
	if enabled {
		if err := m.start(ctx, rec); err != nil {
			return control.Channel{}, err
		}
	} else {
		m.stop(name)
	}
	return m.status(rec, baseURL), nil
}

// status assembles what the API shows for a channel.
func (m *channels) status(rec store.Channel, baseURL string) control.Channel {
	c := control.Channel{Name: rec.Name, Tenant: rec.Tenant, Enabled: rec.Enabled, LowLatency: rec.LowLatency, CreatedAt: rec.CreatedAt, State: control.StateStopped,
		Mode: m.mode(rec), InputSettings: apiInputSettings(rec.Inputs), Access: accessPublic, Geo: apiGeo(rec.Geo), DRM: apiDRM(rec.DRM)}
	if rec.Access == accessSigned {
		c.Access = accessSigned
	}
	host := m.cfg.HTTP.PublicHost
	if host == "" {
		if u, err := url.Parse(baseURL); err == nil {
			host = u.Hostname()
		}
	}
	if host == "" {
		host = "localhost"
	}
	if m.rtmpAddr != nil {
		c.Ingest.RTMPURL = fmt.Sprintf("rtmp://%s/live/%s", net.JoinHostPort(host, port(m.rtmpAddr)), rec.StreamKey)
	}
	c.Ingest.StreamKey = rec.StreamKey
	if m.srtAddr != nil {
		c.Ingest.SRTURL = fmt.Sprintf("srt://%s?streamid=%s&passphrase=%s&pbkeylen=16", net.JoinHostPort(host, port(m.srtAddr)), url.QueryEscape(rec.StreamKey), url.QueryEscape(rec.SRTPassphrase))
	}
	c.Ingest.SRTStreamID = rec.StreamKey
	c.Ingest.SRTPassphrase = rec.SRTPassphrase
	c.BackupIngest = c.Ingest
	c.BackupIngest.StreamKey, c.BackupIngest.SRTStreamID = rec.BackupStreamKey, rec.BackupStreamKey
	if m.rtmpAddr != nil {
		c.BackupIngest.RTMPURL = fmt.Sprintf("rtmp://%s/live/%s", net.JoinHostPort(host, port(m.rtmpAddr)), rec.BackupStreamKey)
	}
	if m.srtAddr != nil {
		c.BackupIngest.SRTURL = fmt.Sprintf("srt://%s?streamid=%s&passphrase=%s&pbkeylen=16", net.JoinHostPort(host, port(m.srtAddr)), url.QueryEscape(rec.BackupStreamKey), url.QueryEscape(rec.SRTPassphrase))
	}
	base := strings.TrimSuffix(baseURL, "/")
	c.Playback.HLS = base + "/live/" + rec.Name + "/master.m3u8"
	c.Playback.DASH = base + "/live/" + rec.Name + "/manifest.mpd"
	c.Playback.Page = base + "/channels/" + rec.Name

	m.mu.Lock()
	run, ok := m.running[rec.Name]
	m.mu.Unlock()
	if !ok {
		return c
	}
	c.State = control.StateIdle
	c.Inputs = inputsStatus(run.stream.State())
	h := run.stream.Health()
	if h.Active {
		c.State = control.StateLive
		in := &control.Input{Source: h.Source, Since: h.Since, Bitrate: int64(h.Bitrate), FPS: h.FPS, LastFrame: h.LastFrame}
		if v := h.Video; v != nil {
			in.Codec, in.Width, in.Height = string(v.Codec), v.Width, v.Height
		}
		if a := h.Audio; a != nil {
			in.Audio = &control.InputAudio{Codec: string(a.Codec), SampleRate: a.SampleRate, Channels: a.Channels}
		}
		c.Input = in
	}
	active := run.active()
	c.ActivePipeline = active.name
	c.Pipelines = m.pipelinesStatus(run)
	if ich, ok := m.index.Lookup(active.id); ok {
		now := time.Now()
		for _, r := range ich.Renditions() {
			snap := r.Snapshot()
			rs := control.Rendition{Name: snap.Info.Name, Width: snap.Info.Width, Height: snap.Info.Height, FPS: snap.Info.FPS,
				Bandwidth: int64(snap.Info.Bandwidth), Codecs: snap.Info.Codecs}
			for i := len(snap.Segments) - 1; i >= 0; i-- {
				if snap.Segments[i].Complete {
					n := snap.Segments[i].Number
					rs.LastSegment = &n
					break
				}
			}
			if lc := r.LastChange(); !lc.IsZero() {
				rs.ManifestAgeSeconds = now.Sub(lc).Seconds()
			}
			c.Renditions = append(c.Renditions, rs)
		}
	}
	if pipe := active.transcoder(); pipe != nil {
		c.Transcoder = transcoderStatus(pipe.Status())
	}
	return c
}

func port(a net.Addr) string {
	_, p, err := net.SplitHostPort(a.String())
	if err != nil {
		return ""
	}
	return p
}

// Events returns the newest events from the state store (control.Manager).
func (m *channels) Events(ctx context.Context, channel string, limit int) ([]control.Event, error) {
	evs, err := m.st.Events(ctx, channel, limit)
	if err != nil {
		return nil, err
	}
	out := make([]control.Event, len(evs))
	for i, e := range evs {
		out[i] = control.Event{At: e.At, Kind: e.Kind, Channel: e.Channel, Source: e.Source, Reason: e.Reason, Data: e.Data}
	}
	return out, nil
}
