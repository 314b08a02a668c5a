package packager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/live"
	"onair/internal/media"
	"onair/internal/objstore"
)

// ErrBusy is returned by Open when the rendition already has an open Track.
var ErrBusy = errors.New("rendition already has an open track")

// ErrClosed is returned by Write on a closed Track.
var ErrClosed = errors.New("track closed")

// Defaults applied by New to zero Config fields.
const (
	DefaultWindow    = 60 * time.Second
	DefaultRetention = 10 * time.Minute
)

// Config configures a Packager.
type Config struct {
	// Grid is the channel clock's segment (D) and part (P) durations; the
	// caller sets them (onair defaults: 2 s and 500 ms).
	Grid media.Grid
	// Window is how much media the live index keeps per rendition, default
	// 60 s (rounded up to whole segments).
	Window time.Duration
	// Retention is how long a segment and its parts stay in storage after
	// leaving the window, default 10 min.
	Retention time.Duration
	// RetryBudget bounds the bytes waiting to be written to storage again
	// after a failure, default 64 MiB; beyond it the oldest are dropped.
	RetryBudget int
}

// Packager packages renditions into CMAF objects. See the package doc.
type Packager struct {
	cfg   Config
	store objstore.Store
	index *live.Index
	log   *slog.Logger
	m     *metrics
	w     *storeWriter

	mu     sync.Mutex
	states map[string]*renditionState // by channel + "/" + rendition
}

// renditionState is what the Packager remembers about a rendition across
// publisher sessions (Opens), to continue numbering and init versions.
type renditionState struct {
	open     bool
	initName string // current init's name ("" before the first init)
	init     []byte
	hasLast  bool
	lastSeg  int64  // number of the last segment completed
	seq      uint32 // last mfhd sequence number used
	meter    bandwidthMeter
}

// New validates cfg and allocates a Packager. It starts nothing; Run does.
// reg may be nil (metrics are then not exported).
func New(cfg Config, store objstore.Store, index *live.Index, log *slog.Logger, reg prometheus.Registerer) (*Packager, error) {
	if err := cfg.Grid.Validate(); err != nil {
		return nil, fmt.Errorf("packager: grid: %w", err)
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.RetryBudget == 0 {
		cfg.RetryBudget = defaultRetryBudget
	}
	switch {
	case cfg.Window < 0 || cfg.Retention < 0 || cfg.RetryBudget < 0:
		return nil, fmt.Errorf("packager: window (%v), retention (%v) and retry budget (%d) must not be negative",
			cfg.Window, cfg.Retention, cfg.RetryBudget)
	case store == nil || index == nil:
		return nil, fmt.Errorf("packager: store and index are required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Packager{
		cfg:    cfg,
		store:  store,
		index:  index,
		log:    log,
		m:      m,
		w:      newStoreWriter(store, log, m, cfg.RetryBudget),
		states: map[string]*renditionState{},
	}, nil
}

// Run retries failed storage writes and deletes objects whose retention is
// up, until ctx ends. It returns nil on cancel, after one last attempt to
// flush the retry queue.
func (p *Packager) Run(ctx context.Context) error {
	p.w.run(ctx)
	return nil
}

// windowSegments is the number of complete segments the index keeps.
func (p *Packager) windowSegments(g media.Grid) int {
	d := g.Segment
	return max(1, int((p.cfg.Window+d-1)/d))
}

// Open starts a publisher session of rendition r on channel. The Track
// must be closed before the rendition can be opened again.
func (p *Packager) Open(channel string, r Rendition) (*Track, error) {
	if err := objstore.ValidKey(live.SegmentKey(channel, r.Name, 0)); err != nil {
		return nil, fmt.Errorf("packager: open %s/%s: %w", channel, r.Name, err)
	}
	if err := checkTrack(r.Track); err != nil {
		return nil, fmt.Errorf("packager: open %s/%s: %w", channel, r.Name, err)
	}
	key := channel + "/" + r.Name
	p.mu.Lock()
	st, ok := p.states[key]
	if !ok {
		st = &renditionState{}
		p.states[key] = st
	}
	if st.open {
		p.mu.Unlock()
		return nil, fmt.Errorf("packager: open %s: %w", key, ErrBusy)
	}
	st.open = true
	p.mu.Unlock()

	// The channel's grid is the live index's: the app creates the index
	// channel with the channel's own grid (low-latency channels have
	// shorter parts); Config.Grid is only the default.
	ich := p.index.Channel(channel, p.cfg.Grid)
	lr := ich.Rendition(r.Name)
	lr.SetWindow(p.windowSegments(ich.Grid()))
	t, err := newTrack(p, channel, r, st, lr, ich.Grid())
	if err != nil {
		p.release(st)
		return nil, err
	}
	return t, nil
}

func checkTrack(t media.Track) error {
	switch t.Kind {
	case media.KindVideo:
		if t.Codec != media.CodecH264 && t.Codec != media.CodecH265 {
			return fmt.Errorf("video codec %q not supported (h264, h265)", t.Codec)
		}
	case media.KindAudio:
		if t.Codec != media.CodecAAC {
			return fmt.Errorf("audio codec %q not supported (aac)", t.Codec)
		}
	default:
		return fmt.Errorf("track kind %v not supported", t.Kind)
	}
	return nil
}

// release marks a rendition's session closed.
func (p *Packager) release(st *renditionState) {
	p.mu.Lock()
	st.open = false
	p.mu.Unlock()
}
