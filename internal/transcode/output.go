package transcode

import "onair/internal/media"

// Output receives the pipeline's renditions. The app implements it by
// adapting the packager. Open is called once per rendition per encoder
// run: at session start for "source" and "audio", at the first keyframe
// for a ladder rendition (again after an ffmpeg restart).
type Output interface {
	Open(channel string, r Rendition) (Sink, error)
}

// Rendition describes one output stream of a channel.
type Rendition struct {
	Name    string        // ladder name, or media.SourceRendition / media.AudioRendition
	Track   media.Track   // codec parameters; Width, Height, FPS, SPS, PPS for video
	Bitrate int           // target bits per second; 0 when unknown (source, audio)
	Mapping media.Mapping // the publisher session's clock mapping
}

// Sink takes one rendition's units in decode order, with channel-clock
// timestamps and Wall set to the ingest time of the matching input frame.
// Write should not block for long: a stalled ladder Sink stalls ffmpeg.
type Sink interface {
	Write(u media.Unit) error
	Close() error
}

// Aborter is a Sink that can end without completing its unfinished
// segment: with Config.AbortOnFailure, a failed ffmpeg's renditions are
// aborted rather than closed.
type Aborter interface {
	Abort() error
}
