package live

import (
	"fmt"
	"strconv"
	"strings"
)

// InitKey returns the object key of a rendition's init segment named name
// ("init.mp4", or "init-{n}.mp4" for an init that replaced an earlier one
// from segment n on: objects are immutable, so a changed init gets a new
// name).
func InitKey(channel, rendition, name string) string {
	return channel + "/" + rendition + "/" + name
}

// InitName returns the init segment name for an init first used by segment
// n; version 0 (the rendition's first init) is "init.mp4".
func InitName(first bool, n int64) string {
	if first {
		return "init.mp4"
	}
	return fmt.Sprintf("init-%d.mp4", n)
}

// SegmentKey returns the object key of segment n.
func SegmentKey(channel, rendition string, n int64) string {
	return fmt.Sprintf("%s/%s/%d.m4s", channel, rendition, n)
}

// PartKey returns the object key of part p of segment n.
func PartKey(channel, rendition string, n int64, p int) string {
	return fmt.Sprintf("%s/%s/%d.%d.m4s", channel, rendition, n, p)
}

// ObjectName is a parsed media object file name within a rendition.
type ObjectName struct {
	Init    bool
	Name    string // the init name when Init
	Segment int64
	Part    int // -1 for a whole segment
}

// ParseObjectName parses "init.mp4", "init-{n}.mp4", "{n}.m4s" or "{n}.{p}.m4s". Numbers are
// plain decimal without signs or leading zeros.
func ParseObjectName(name string) (ObjectName, bool) {
	if name == "init.mp4" {
		return ObjectName{Init: true, Name: name, Part: -1}, true
	}
	if v, ok := strings.CutPrefix(name, "init-"); ok {
		if v, ok := strings.CutSuffix(v, ".mp4"); ok {
			if _, ok := parseNum(v); ok {
				return ObjectName{Init: true, Name: name, Part: -1}, true
			}
		}
		return ObjectName{}, false
	}
	base, ok := strings.CutSuffix(name, ".m4s")
	if !ok {
		return ObjectName{}, false
	}
	segStr, partStr, hasPart := strings.Cut(base, ".")
	seg, ok := parseNum(segStr)
	if !ok {
		return ObjectName{}, false
	}
	on := ObjectName{Segment: seg, Part: -1}
	if hasPart {
		p, ok := parseNum(partStr)
		if !ok || p > 1000 {
			return ObjectName{}, false
		}
		on.Part = int(p)
	}
	return on, true
}

func parseNum(s string) (int64, bool) {
	if s == "" || len(s) > 18 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// Pipelines of a channel. Pipeline A is the channel's only pipeline in
// single mode; standard mode adds B.
const (
	PipelineA = "a"
	PipelineB = "b"
)

// PipelineID returns the name under which a channel's pipeline keeps its
// index and storage prefix: the channel's own name for pipeline A (so a
// single-pipeline channel keeps its layout), "{channel}.{pipeline}" for any
// other. Channel names cannot contain '.', so IDs never collide.
func PipelineID(channel, pipeline string) string {
	if pipeline == PipelineA || pipeline == "" {
		return channel
	}
	return channel + "." + pipeline
}

// SplitPipelineID is the inverse of PipelineID.
func SplitPipelineID(id string) (channel, pipeline string) {
	if c, p, ok := strings.Cut(id, "."); ok {
		return c, p
	}
	return id, PipelineA
}

// ValidChannelName reports whether name matches ^[a-z0-9][a-z0-9-]{0,62}$:
// safe in URLs, object keys, NATS subjects and file names, and free of
// the '.' that PipelineID uses.
func ValidChannelName(name string) bool {
	if len(name) == 0 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0:
		default:
			return false
		}
	}
	return true
}
