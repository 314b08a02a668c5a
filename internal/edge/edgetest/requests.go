package edgetest

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Kind is what a request asks for.
type Kind int

// Kinds of request.
const (
	KindOther    Kind = iota // anything else (unknown paths, other methods)
	KindMaster               // the multivariant playlist
	KindPlaylist             // a media playlist without _HLS_msn
	KindBlocking             // a blocking media playlist reload (_HLS_msn)
	KindInit                 // an init segment
	KindSegment              // a complete segment
	KindPart                 // an LL-HLS part
)

var kindNames = [...]string{"other", "master", "playlist", "blocking", "init", "segment", "part"}

// String returns the kind's lower-case name.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// Request is how often the origin was asked for one target.
type Request struct {
	// Target is the path, plus "?_HLS_msn=N[&_HLS_part=P]" for a blocking
	// reload (the directive alone, parameters sorted as an edge sends
	// them), so every distinct blocking reload has its own target.
	Target    string
	Kind      Kind
	Rendition string // "" for the multivariant playlist and unknown paths
	// Segment is the segment number of a segment or part, the _HLS_msn of
	// a blocking reload; -1 otherwise.
	Segment int64
	// Part is the part index of a part, the _HLS_part of a blocking
	// reload; -1 otherwise.
	Part  int
	Count int64
}

// counter counts requests by target.
type counter struct {
	total atomic.Int64

	mu      sync.Mutex
	targets map[string]*Request
}

func newCounter() *counter { return &counter{targets: make(map[string]*Request)} }

// add counts one request for r.Target.
func (c *counter) add(r Request) {
	c.total.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if have := c.targets[r.Target]; have != nil {
		have.Count++
		return
	}
	r.Count = 1
	c.targets[r.Target] = &r
}

// snapshot returns every target counted so far, sorted by target.
func (c *counter) snapshot() []Request {
	c.mu.Lock()
	out := make([]Request, 0, len(c.targets))
	for _, r := range c.targets {
		out = append(out, *r)
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b Request) int { return strings.Compare(a.Target, b.Target) })
	return out
}
