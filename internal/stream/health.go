package stream

import (
	"time"

	"onair/internal/media"
)

// Health is a snapshot of the channel's input as seen at the stream.
type Health struct {
	Active    bool         `json:"active"`
	Source    string       `json:"source,omitempty"`
	Since     time.Time    `json:"since,omitzero"`
	Video     *media.Track `json:"-"`
	Audio     *media.Track `json:"-"`
	Bytes     uint64       `json:"bytes"`
	Frames    uint64       `json:"video_frames"`
	LastFrame time.Time    `json:"last_frame,omitzero"`
	// Rolling rates over the last window (about 2 s).
	Bitrate float64 `json:"bitrate"` // bits per second, video + audio
	FPS     float64 `json:"fps"`

	winStart  time.Time
	winBytes  uint64
	winFrames uint64
}

const healthWindow = 2 * time.Second

func (h *Health) observe(u *media.Unit, now time.Time) {
	n := uint64(u.Size())
	h.Bytes += n
	h.winBytes += n
	if u.Kind == media.KindVideo {
		h.Frames++
		h.winFrames++
		h.LastFrame = now
	}
	if h.winStart.IsZero() {
		h.winStart = now
		return
	}
	if el := now.Sub(h.winStart); el >= healthWindow {
		h.Bitrate = float64(h.winBytes*8) / el.Seconds()
		h.FPS = float64(h.winFrames) / el.Seconds()
		h.winStart, h.winBytes, h.winFrames = now, 0, 0
	}
}

// Health returns a snapshot of the health of the input readers get media
// from (the primary's when the slate plays or nothing does).
func (s *Stream) Health() Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.shown
	if in != Primary && in != Backup {
		in = Primary
	}
	return s.healthLocked(in)
}

// InputHealth returns a snapshot of one input's health.
func (s *Stream) InputHealth(in Input) Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.healthLocked(in)
}

func (s *Stream) healthLocked(in Input) Health {
	hp := s.health[in]
	if hp == nil {
		return Health{}
	}
	h := *hp
	if h.Video != nil {
		v := *h.Video
		h.Video = &v
	}
	if h.Audio != nil {
		a := *h.Audio
		h.Audio = &a
	}
	return h
}
