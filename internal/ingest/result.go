package ingest

import (
	"errors"
	"fmt"

	"onair/internal/stream"
)

// Result is why a connection was admitted, refused or cut. It is the value
// of the result label of onair_ingest_connections_total.
type Result string

// Results.
const (
	// ResultAccepted counts connections whose publisher session started.
	ResultAccepted Result = "accepted"
	// ResultUnknownKey: the Router did not know the stream key, or none
	// was given.
	ResultUnknownKey Result = "unknown_key"
	// ResultBusy: the channel already had an active publisher.
	ResultBusy Result = "busy"
	// ResultBadHandshake: garbage bytes or a protocol handshake that failed.
	ResultBadHandshake Result = "bad_handshake"
	// ResultBadPassphrase: SRT passphrase missing, wrong, or unexpected.
	ResultBadPassphrase Result = "bad_passphrase"
	// ResultUnsupportedCodec: a track in a codec onair does not ingest.
	ResultUnsupportedCodec Result = "unsupported_codec"
	// ResultNoKeyframe: no video keyframe with parameter sets within the
	// buffer bound.
	ResultNoKeyframe Result = "no_keyframe"
	// ResultStalled: no data for the read timeout.
	ResultStalled Result = "stalled"
	// ResultError: anything else (protocol errors mid-stream, refused play
	// requests, connection limit, internal errors).
	ResultError Result = "error"
)

// ErrNoKeyframe is wrapped by the error a Session returns when its buffer
// bound passes without a usable video keyframe.
var ErrNoKeyframe = errors.New("no video keyframe with parameter sets")

// Rejection is an error that ends a connection for a known Result.
type Rejection struct {
	Result Result
	Err    error
}

// Reject wraps err with the result it stands for.
func Reject(r Result, err error) error { return &Rejection{Result: r, Err: err} }

// Rejectf is Reject with a formatted error.
func Rejectf(r Result, format string, args ...any) error {
	return &Rejection{Result: r, Err: fmt.Errorf(format, args...)}
}

// Error returns the underlying error's text.
func (e *Rejection) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Rejection) Unwrap() error { return e.Err }

// ResultOf classifies the error that ended a connection: a Rejection's own
// result, ErrUnknownKey, stream.ErrBusy and ErrNoKeyframe by identity, and
// ResultError for anything else.
func ResultOf(err error) Result {
	var rej *Rejection
	switch {
	case errors.As(err, &rej):
		return rej.Result
	case errors.Is(err, ErrUnknownKey):
		return ResultUnknownKey
	case errors.Is(err, stream.ErrBusy):
		return ResultBusy
	case errors.Is(err, ErrNoKeyframe):
		return ResultNoKeyframe
	}
	return ResultError
}

// SupportedVideo and SupportedAudio name the codecs ingest accepts, for
// error messages.
const (
	SupportedVideo = "H.264, H.265"
	SupportedAudio = "AAC"
)

// UnsupportedCodec returns the rejection for a track in codec name (a
// human-readable name such as "MP3" or "Sorenson H.263 (flv1)"); kind is
// "video", "audio", or "" when the container does not say.
func UnsupportedCodec(kind, name string) error {
	switch kind {
	case "video":
		return Rejectf(ResultUnsupportedCodec, "unsupported video codec %s (supported: %s)", name, SupportedVideo)
	case "audio":
		return Rejectf(ResultUnsupportedCodec, "unsupported audio codec %s (supported: %s)", name, SupportedAudio)
	}
	return Rejectf(ResultUnsupportedCodec, "unsupported codec %s (supported: video %s, audio %s)", name, SupportedVideo, SupportedAudio)
}
