package ingest

import (
	"errors"

	"onair/internal/stream"
)

// ErrUnknownKey is returned by a Router for a stream key that leads nowhere.
var ErrUnknownKey = errors.New("unknown stream key")

// Target is where a stream key leads.
type Target struct {
	Channel string
	Stream  *stream.Stream
	// Passphrase is the SRT passphrase the caller must encrypt with; ""
	// means the channel accepts unencrypted SRT only.
	Passphrase string
	// Input is the channel input the key publishes to; "" means primary.
	Input stream.Input
}

// In returns the input the target publishes to.
func (t Target) In() stream.Input {
	if t.Input == "" {
		return stream.Primary
	}
	return t.Input
}

// Router resolves a stream key to its channel. The app implements it; it
// must be safe for concurrent use and return ErrUnknownKey (possibly
// wrapped) for a key it does not know.
type Router interface {
	Route(key string) (Target, error)
}
