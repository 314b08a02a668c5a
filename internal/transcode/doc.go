// Package transcode is the transcoder role: one Pipeline per channel reads
// the channel's stream, passes the source video and audio through, and
// drives a supervised ffmpeg that decodes the source once and encodes every
// rendition of the ladder with keyframes forced on the channel's segment
// grid, so segment n is interchangeable across renditions.
//
// Data path for one publisher session:
//
//	stream.Reader --video--> "source" Sink (untouched)
//	              --audio--> "audio" Sink (untouched; not transcoded)
//	              --video--> MPEG-TS on ffmpeg's stdin
//	ffmpeg --fd 3+i--> one single-stream MPEG-TS per rendition --> Sink i
//
// Timestamps: ffmpeg runs with -copyts, so output PTS equal input PTS. Go
// writes video with ts = channel PTS - base + pad, where base is a grid
// boundary and pad a whole number of segments (keeping the TS PCR
// positive), and adds base - pad back to every output unit. The keyframe
// expression's t counts from ffmpeg's first encoded frame, so BuildArgs
// folds that frame's grid phase into the expression, and the fps filter
// starts every run exactly on a boundary (see Args.FirstPTS, StartPTS).
//
// The app implements Output (it adapts the packager); roles never import
// each other. transcode imports internal/media, internal/stream and
// internal/proc only.
//
// Concurrency: Run owns every goroutine it starts (one supervisor per
// session, one reader per rendition pipe, one speed monitor) and returns
// after all have ended. Status is safe for concurrent use. Sinks of
// different renditions are written from different goroutines; one Sink is
// never used concurrently.
package transcode
