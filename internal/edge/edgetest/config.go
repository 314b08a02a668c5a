package edgetest

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Config describes the synthetic channel. The zero value is usable.
type Config struct {
	// Channel is the channel name in the URLs. Default "edgetest".
	Channel string
	// Renditions are the channel's renditions, highest bandwidth first.
	// Default DefaultRenditions().
	Renditions []Rendition
	// Segment is D, the segment duration. Default 1 s.
	Segment time.Duration
	// Part is P, the LL-HLS part duration; D must be a whole multiple of
	// it. Default 250 ms.
	Part time.Duration
	// Window is how much media a playlist lists: max(Window/D, three
	// target durations plus one segment) complete segments, as onair's
	// origin does. Default 60 s.
	Window time.Duration
	// Preroll is how many segments are complete when New returns.
	// Default: as many as a playlist lists.
	Preroll int
	// BlockTimeout bounds a held blocking reload or object request (then
	// 503). Default 3 x D, as onair's origin.
	BlockTimeout time.Duration
	// InitBytes is the size of every init segment. Default 1024.
	InitBytes int
}

// Rendition is one rendition of the synthetic channel.
type Rendition struct {
	// Name is the path element, [a-zA-Z0-9_-]{1,64}.
	Name string
	// Bandwidth is the variant's BANDWIDTH in bits per second; parts are
	// Bandwidth * P / 8 bytes unless PartBytes is set.
	Bandwidth int
	// PartBytes overrides the size of every part; a segment is the size
	// of its parts together.
	PartBytes int
}

// DefaultRenditions returns Config.Renditions' default: three steps of
// onair's default ladder.
func DefaultRenditions() []Rendition {
	return []Rendition{
		{Name: "720p60", Bandwidth: 3_500_000},
		{Name: "480p30", Bandwidth: 1_200_000},
		{Name: "240p30", Bandwidth: 400_000},
	}
}

// Defaults for Config's zero fields.
const (
	DefaultChannel   = "edgetest"
	DefaultSegment   = time.Second
	DefaultPart      = 250 * time.Millisecond
	DefaultWindow    = 60 * time.Second
	DefaultInitBytes = 1024
)

var nameRe = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.Channel == "" {
		c.Channel = DefaultChannel
	}
	if c.Renditions == nil {
		c.Renditions = DefaultRenditions()
	}
	if c.Segment == 0 {
		c.Segment = DefaultSegment
	}
	if c.Part == 0 {
		c.Part = DefaultPart
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.BlockTimeout == 0 {
		c.BlockTimeout = 3 * c.Segment
	}
	if c.InitBytes == 0 {
		c.InitBytes = DefaultInitBytes
	}
	var errs []error
	if !nameRe.MatchString(c.Channel) {
		errs = append(errs, fmt.Errorf("channel name %q: want [a-zA-Z0-9_-]{1,64}", c.Channel))
	}
	if len(c.Renditions) == 0 {
		errs = append(errs, errors.New("no renditions"))
	}
	seen := map[string]bool{}
	for i, r := range c.Renditions {
		switch {
		case !nameRe.MatchString(r.Name):
			errs = append(errs, fmt.Errorf("rendition %d: name %q: want [a-zA-Z0-9_-]{1,64}", i, r.Name))
		case seen[r.Name]:
			errs = append(errs, fmt.Errorf("rendition %d: name %q used twice", i, r.Name))
		case r.Bandwidth <= 0 || r.PartBytes < 0:
			errs = append(errs, fmt.Errorf("rendition %s: bandwidth must be positive and part bytes not negative", r.Name))
		}
		seen[r.Name] = true
	}
	if c.Segment < 0 || c.Part <= 0 || c.Segment%c.Part != 0 {
		errs = append(errs, fmt.Errorf("segment %v must be a positive whole multiple of part %v", c.Segment, c.Part))
	}
	if c.Window < 0 || c.Preroll < 0 || c.BlockTimeout < 0 || c.InitBytes < 0 {
		errs = append(errs, errors.New("window, preroll, block timeout and init bytes must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("edgetest: %w", err)
	}
	if c.Preroll == 0 {
		c.Preroll = listedSegments(c.Window, c.Segment)
	}
	return c, nil
}

// targetDuration is EXT-X-TARGETDURATION: D rounded up to whole seconds.
func targetDuration(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

// listedSegments is how many complete segments a playlist lists: the
// window, but never fewer than RFC 8216bis section 6.2.2 allows (three
// target durations plus one segment), as onair's origin computes it.
func listedSegments(window, d time.Duration) int {
	minimum := (3*time.Duration(targetDuration(d))*time.Second+d-1)/d + 1
	return int(max(window/d, minimum))
}
