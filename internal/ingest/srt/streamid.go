package srt

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SRT access-control modes (Haivision SRT docs/features/access-control.md).
const (
	modeRequest       = "request"
	modePublish       = "publish"
	modeBidirectional = "bidirectional"
)

// maxStreamIDLen is SRT's limit on SRTO_STREAMID.
const maxStreamIDLen = 512

// streamID is a parsed SRT stream id.
type streamID struct {
	Key  string // the stream key: the plain id, or the r= resource name
	Mode string // request, publish or bidirectional
	User string // u=, informational
}

// parseStreamID parses a stream id: either a plain key (publish mode
// implied) or the access-control form "#!::k=v,k=v" (also accepted
// percent-encoded) where r is the key, m the mode (request when absent, per
// the spec) and u the user; other keys are ignored.
func parseStreamID(s string) (streamID, error) {
	if len(s) > maxStreamIDLen {
		return streamID{}, fmt.Errorf("streamid longer than %d bytes", maxStreamIDLen)
	}
	// Some callers (ffmpeg 5.1's libsrt) send the streamid URL option
	// verbatim, so a broadcaster who percent-encoded "#!::" in the URL
	// arrives encoded.
	if strings.HasPrefix(strings.ToUpper(s), "%23%21") || strings.HasPrefix(strings.ToUpper(s), "%23!") {
		dec, err := url.PathUnescape(s)
		if err != nil {
			return streamID{}, fmt.Errorf("streamid: %w", err)
		}
		s = dec
	}
	if !strings.HasPrefix(s, "#!::") {
		if strings.HasPrefix(s, "#!") {
			return streamID{}, errors.New("unsupported streamid syntax (use KEY or #!::r=KEY,m=publish)")
		}
		if err := validKey(s); err != nil {
			return streamID{}, err
		}
		return streamID{Key: s, Mode: modePublish}, nil
	}
	var id streamID
	var haveR, haveM, haveU bool
	for item := range strings.SplitSeq(s[len("#!::"):], ",") {
		k, v, ok := strings.Cut(item, "=")
		if !ok || k == "" {
			return streamID{}, fmt.Errorf("malformed streamid item %q (want key=value)", item)
		}
		var seen *bool
		switch k {
		case "r":
			id.Key, seen = v, &haveR
		case "m":
			id.Mode, seen = v, &haveM
		case "u":
			id.User, seen = v, &haveU
		default:
			continue
		}
		if *seen {
			return streamID{}, fmt.Errorf("streamid repeats %q", k)
		}
		*seen = true
	}
	if err := validKey(id.Key); err != nil {
		return streamID{}, err
	}
	switch id.Mode {
	case "":
		id.Mode = modeRequest
	case modeRequest, modePublish, modeBidirectional:
	default:
		return streamID{}, fmt.Errorf("unknown streamid mode %q (want publish)", id.Mode)
	}
	return id, nil
}

func validKey(k string) error {
	switch {
	case k == "":
		return errors.New("no stream key in streamid (use streamid=KEY or #!::r=KEY,m=publish)")
	case !utf8.ValidString(k) || strings.ContainsFunc(k, unicode.IsControl):
		return errors.New("stream key has invalid characters")
	}
	return nil
}
