package app

import (
	"onair/internal/control"
	"onair/internal/packager"
	"onair/internal/transcode"
)

// packagerOutput lets the transcoder hand renditions to the packager
// without either role importing the other.
type packagerOutput struct {
	p       *packager.Packager
	protect *packager.Protection // the channel's encryption; nil clear
}

// Open implements transcode.Output.
func (o packagerOutput) Open(channel string, r transcode.Rendition) (transcode.Sink, error) {
	return o.p.Open(channel, packager.Rendition{Name: r.Name, Track: r.Track, Bitrate: r.Bitrate, Mapping: r.Mapping, Protect: o.protect})
}

func transcoderStatus(s transcode.Status) *control.Transcoder {
	return &control.Transcoder{State: s.State, PID: s.PID, Restarts: s.Restarts, Speed: s.Speed, LastError: s.LastError}
}
