package live

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"sort"
	"sync"
	"time"

	"onair/internal/media"
)

// ErrNotFound means the channel, rendition or object is not in the index.
var ErrNotFound = errors.New("not found")

// Part is one LL-HLS partial segment (a CMAF chunk: moof + mdat).
type Part struct {
	Index       int
	Start       int64 // channel ticks
	Duration    int64 // ticks
	Independent bool  // starts with a keyframe
	Size        int   // bytes
}

// Segment is one media segment of a rendition.
type Segment struct {
	Number   int64
	Start    int64     // channel ticks of the first sample
	Duration int64     // ticks; valid once Complete
	Wall     time.Time // ingest wall time of the first sample (PROGRAM-DATE-TIME)
	Parts    []Part
	Complete bool
	// Discontinuity is set on the first segment of a publisher session
	// whose timeline or encoding differs from the previous segment's.
	Discontinuity bool
	Size          int
	// Init names the init segment the segment needs (EXT-X-MAP).
	Init string
	// Key is the ID of the content key that encrypts the segment as a
	// whole (Protection.Scheme SchemeAES128; zero otherwise): segments of
	// one key share an EXT-X-KEY tag.
	Key KeyID
}

// Scheme is how a rendition's media is encrypted.
type Scheme string

// Encryption schemes. Clear media has the empty scheme.
const (
	SchemeClear  Scheme = ""
	SchemeAES128 Scheme = "aes128" // HLS AES-128: every segment encrypted whole (AES-128-CBC)
	SchemeCBCS   Scheme = "cbcs"   // CMAF CENC 'cbcs': HLS SAMPLE-AES and DASH
	SchemeCENC   Scheme = "cenc"   // CMAF CENC 'cenc': DASH (HLS SAMPLE-AES-CTR)
)

// KeyID is a 16-byte content key ID (KID).
type KeyID [16]byte

// IsZero reports whether k is unset.
func (k KeyID) IsZero() bool { return k == KeyID{} }

// Hex is the KID as 32 lowercase hex digits.
func (k KeyID) Hex() string { return hex.EncodeToString(k[:]) }

// UUID is the KID in the 8-4-4-4-12 form manifests use.
func (k KeyID) UUID() string {
	h := k.Hex()
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Protection describes a rendition's encryption for manifests.
type Protection struct {
	Scheme Scheme
	// Key is the init's default KID (cbcs, cenc).
	Key KeyID
	// PSSH holds the base64 of the Clear Key pssh box the init carries
	// (cbcs, cenc), for the MPD's cenc:pssh.
	PSSH string
}

// Info describes a rendition for manifests.
type Info struct {
	Name      string
	Kind      media.Kind
	Codecs    string // RFC 6381, e.g. "avc1.64001f" or "mp4a.40.2"
	Width     int
	Height    int
	FPS       float64
	Bandwidth int    // peak bits per second (declared or measured)
	Average   int    // average bits per second (declared or measured)
	Timescale uint32 // the CMAF track timescale
	// Language and Channels for audio.
	Channels int
	// Protection is the rendition's encryption; the zero value is clear.
	Protection Protection
}

// Snapshot is a consistent copy of a rendition's index.
type Snapshot struct {
	Info     Info
	Grid     media.Grid
	Epoch    media.Epoch
	Segments []Segment // ascending numbers; the last may be incomplete
	// DiscontinuitySeq counts discontinuities that slid out of the window.
	DiscontinuitySeq int
	// Ended is true when the rendition has no active session.
	Ended bool
}

// Last returns the newest segment number and the number of parts it has,
// or ok=false if there is no segment yet.
func (s *Snapshot) Last() (msn int64, parts int, ok bool) {
	if len(s.Segments) == 0 {
		return 0, 0, false
	}
	last := s.Segments[len(s.Segments)-1]
	return last.Number, len(last.Parts), true
}

// Has reports whether the snapshot holds part p of segment n (p < 0: the
// whole segment complete), or anything later.
func (s *Snapshot) Has(n int64, p int) bool {
	for i := len(s.Segments) - 1; i >= 0; i-- {
		seg := s.Segments[i]
		if seg.Number > n {
			return true
		}
		if seg.Number == n {
			if p < 0 {
				return seg.Complete
			}
			return len(seg.Parts) > p || seg.Complete
		}
		if seg.Number < n {
			return false
		}
	}
	return false
}

// Index holds every channel's live state.
type Index struct {
	mu       sync.RWMutex
	channels map[string]*Channel
	// KeepData is how many of the newest segments keep their bytes in
	// memory (default 4).
	keepData int
}

// NewIndex returns an empty index keeping the bytes of the newest keepData
// segments per rendition in memory (0 means 4).
func NewIndex(keepData int) *Index {
	if keepData <= 0 {
		keepData = 4
	}
	return &Index{channels: map[string]*Channel{}, keepData: keepData}
}

// Channel returns the channel's index, creating it with grid and epoch if
// absent.
func (x *Index) Channel(name string, grid media.Grid) *Channel {
	x.mu.Lock()
	defer x.mu.Unlock()
	c, ok := x.channels[name]
	if !ok {
		c = &Channel{name: name, grid: grid, keepData: x.keepData, renditions: map[string]*Rendition{}}
		x.channels[name] = c
	}
	return c
}

// Lookup returns the channel's index if present.
func (x *Index) Lookup(name string) (*Channel, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	c, ok := x.channels[name]
	return c, ok
}

// Remove drops a channel from the index.
func (x *Index) Remove(name string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.channels, name)
}

// Channels returns the names of the indexed channels, sorted.
func (x *Index) Channels() []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	names := make([]string, 0, len(x.channels))
	for n := range x.channels {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Channel is one channel's renditions.
type Channel struct {
	name     string
	grid     media.Grid
	keepData int

	mu         sync.RWMutex
	epoch      media.Epoch
	renditions map[string]*Rendition
	order      []string
}

// Name returns the channel name.
func (c *Channel) Name() string { return c.name }

// Grid returns the channel's segment grid.
func (c *Channel) Grid() media.Grid { return c.grid }

// SetEpoch records the channel clock's origin (for DASH availability times).
func (c *Channel) SetEpoch(e media.Epoch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch = e
}

// Epoch returns the channel clock's origin.
func (c *Channel) Epoch() media.Epoch {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.epoch
}

// Rendition returns the named rendition, creating it if absent. Renditions
// keep their creation order in Renditions.
func (c *Channel) Rendition(name string) *Rendition {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.renditions[name]
	if !ok {
		r = &Rendition{ch: c, changed: make(chan struct{})}
		r.info.Name = name
		c.renditions[name] = r
		c.order = append(c.order, name)
	}
	return r
}

// Lookup returns the named rendition if it exists and has its init segment.
func (c *Channel) Lookup(name string) (*Rendition, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.renditions[name]
	if !ok {
		return nil, false
	}
	r.mu.RLock()
	ready := r.init != nil
	r.mu.RUnlock()
	return r, ready
}

// Renditions returns the renditions that have an init segment, in creation
// order.
func (c *Channel) Renditions() []*Rendition {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []*Rendition
	for _, n := range c.order {
		r := c.renditions[n]
		r.mu.RLock()
		ready := r.init != nil
		r.mu.RUnlock()
		if ready {
			out = append(out, r)
		}
	}
	return out
}

// Rendition is one rendition's live state.
type Rendition struct {
	ch *Channel

	mu       sync.RWMutex
	info     Info
	init     []byte // the current init
	initName string
	key      KeyID // the key of segments added from now on
	inits    map[string][]byte
	segs     []*segState
	discSeq  int
	ended    bool
	changed  chan struct{}
	window   int // segments kept in the index
	lastSeen time.Time
}

type segState struct {
	Segment
	partData [][]byte
	data     []byte
}

// Name returns the rendition name.
func (r *Rendition) Name() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.info.Name
}

// SetInit stores an init segment under name (see InitName) and makes it the
// current one for segments added from now on. It wakes waiters.
func (r *Rendition) SetInit(info Info, name string, init []byte) {
	r.mu.Lock()
	info.Name = r.info.Name
	r.info = info
	r.init = slices.Clone(init)
	r.initName = name
	if r.inits == nil {
		r.inits = map[string][]byte{}
	}
	r.inits[name] = r.init
	r.ended = false
	r.notifyLocked()
	r.mu.Unlock()
}

// SetKey makes kid the whole-segment key (SchemeAES128) of segments
// opened from now on.
func (r *Rendition) SetKey(kid KeyID) {
	r.mu.Lock()
	r.key = kid
	r.mu.Unlock()
}

// Init returns the bytes of the named init segment ("" for the current one).
func (r *Rendition) Init(name string) ([]byte, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if name == "" {
		return r.init, r.init != nil
	}
	b, ok := r.inits[name]
	return b, ok
}

// CurrentInit returns the name of the current init segment.
func (r *Rendition) CurrentInit() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.initName
}

// UpdateBandwidth records measured bitrates (bits per second).
func (r *Rendition) UpdateBandwidth(peak, avg int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if peak > r.info.Bandwidth {
		r.info.Bandwidth = peak
	}
	if avg > 0 {
		r.info.Average = avg
	}
}

// SetWindow sets how many complete segments the index keeps.
func (r *Rendition) SetWindow(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.window = n
}

// AddPart appends a part to segment n, opening the segment if it is new.
// start and wall describe the segment's first sample when it opens;
// disc marks the segment as the first after a discontinuity. The data must
// not be modified afterwards.
func (r *Rendition) AddPart(n int64, segStart int64, wall time.Time, disc bool, p Part, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.lastLocked()
	if s == nil || s.Number != n {
		s = &segState{Segment: Segment{Number: n, Start: segStart, Wall: wall, Discontinuity: disc, Init: r.initName, Key: r.key}}
		r.segs = append(r.segs, s)
	}
	p.Size = len(data)
	s.Parts = append(s.Parts, p)
	s.partData = append(s.partData, data)
	s.Size += len(data)
	r.ended = false
	r.notifyLocked()
}

// CompleteSegment closes segment n with its duration and whole bytes, then
// trims the window and the in-memory bytes. It returns the segments that
// left the window.
func (r *Rendition) CompleteSegment(n int64, duration int64, data []byte) []Segment {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.lastLocked()
	if s == nil || s.Number != n {
		return nil
	}
	s.Duration = duration
	s.Complete = true
	s.data = data
	var gone []Segment
	if r.window > 0 {
		complete := 0
		for _, x := range r.segs {
			if x.Complete {
				complete++
			}
		}
		for complete > r.window && len(r.segs) > 1 {
			if r.segs[0].Discontinuity {
				r.discSeq++
			}
			gone = append(gone, r.segs[0].Segment)
			r.segs[0] = nil
			r.segs = r.segs[1:]
			complete--
		}
	}
	keep := r.ch.keepData
	for i := 0; i < len(r.segs)-keep; i++ {
		r.segs[i].data = nil
		r.segs[i].partData = nil
	}
	r.notifyLocked()
	return gone
}

// DropIncomplete removes a trailing incomplete segment (for example when a
// session ends mid-segment and its parts can never complete), marks the
// rendition ended and wakes waiters.
func (r *Rendition) DropIncomplete() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.lastLocked(); s != nil && !s.Complete {
		r.segs = r.segs[:len(r.segs)-1]
	}
	r.ended = true
	r.notifyLocked()
}

// End marks the rendition as having no active session.
func (r *Rendition) End() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended = true
	r.notifyLocked()
}

func (r *Rendition) lastLocked() *segState {
	if len(r.segs) == 0 {
		return nil
	}
	return r.segs[len(r.segs)-1]
}

func (r *Rendition) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
	r.lastSeen = time.Now()
}

// LastChange returns when the rendition last changed (a new part, segment
// or init), for the manifest-age signal.
func (r *Rendition) LastChange() time.Time {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.lastSeen
}

// Snapshot returns a consistent copy of the rendition's index.
func (r *Rendition) Snapshot() Snapshot {
	epoch := r.ch.Epoch() // before r.mu: lock order is channel, then rendition
	r.mu.RLock()
	defer r.mu.RUnlock()
	snap := Snapshot{Info: r.info, Grid: r.ch.grid, Epoch: epoch, DiscontinuitySeq: r.discSeq, Ended: r.ended}
	snap.Segments = make([]Segment, len(r.segs))
	for i, s := range r.segs {
		snap.Segments[i] = s.Segment
		snap.Segments[i].Parts = slices.Clone(s.Parts)
	}
	return snap
}

// Data returns the in-memory bytes of segment n (part < 0) or of part p, if
// still held. ok is false when the object is not in memory (it may still be
// in storage).
func (r *Rendition) Data(n int64, part int) ([]byte, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for i := len(r.segs) - 1; i >= 0; i-- {
		s := r.segs[i]
		if s.Number != n {
			continue
		}
		if part < 0 {
			return s.data, s.data != nil
		}
		if part < len(s.partData) && s.partData[part] != nil {
			return s.partData[part], true
		}
		return nil, false
	}
	return nil, false
}

// Wait blocks until the rendition holds part p of segment n (p < 0: segment
// n complete) or anything later, ctx ends, or the rendition ends. It returns
// nil when the object exists, ctx.Err() on cancel, and ErrNotFound if the
// rendition ended first.
func (r *Rendition) Wait(ctx context.Context, n int64, p int) error {
	for {
		r.mu.RLock()
		snap := Snapshot{Segments: make([]Segment, 0, 2)}
		// Only the tail matters for Has; copy it cheaply.
		for i := max(0, len(r.segs)-2); i < len(r.segs); i++ {
			snap.Segments = append(snap.Segments, r.segs[i].Segment)
		}
		has := snap.Has(n, p)
		ended := r.ended
		ch := r.changed
		r.mu.RUnlock()
		if has {
			return nil
		}
		if ended {
			return ErrNotFound
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}
