// Package detect watches one input's content and reports when its video
// is black or frozen or its audio is silent, so an input selector can
// switch away from a live but useless feed (a broadcaster showing a black
// slate, an encoder repeating its last frame, a muted mixer).
//
// A Detector is fed the input's media units. It writes them as a live
// Matroska stream to the standard input of one supervised ffmpeg, which
// decodes them (on one thread) and runs ffmpeg's own detectors:
//
//	video: blackdetect (pix_th, pic_th) and freezedetect (n, d)
//	audio: silencedetect (n, d)
//
// Each filter chain ends in a metadata print that logs, at -loglevel
// info, one block of lines per decoded frame with the detectors' events;
// the Detector parses those lines (parseLine) into state (tracker). A
// condition is set once it has lasted its configured duration in media
// time, exactly as ffmpeg's filters define it (blackdetect's
// black_min_duration applied live), and cleared by the first frame (or
// sample) without it. Since marks are the channel-clock PTS where the
// condition began and the ingest wall time of that frame.
//
// Cost (see BenchmarkFFmpegCPU): by default only video keyframes are
// decoded (Config.Sample = SampleKeyframes); non-key frames never leave
// Go. Two things keep that mode prompt. Matroska rather than MPEG-TS:
// ffmpeg's TS demuxer holds a video PES until the next one starts and its
// H.264/H.265 parser holds an access unit until the next one begins, a
// GOP or two of delay when only keyframes flow, while a Matroska block is
// one complete frame. And the SPS is rewritten to allow no frame
// reordering (lowDelaySPS), which is true of a keyframes-only stream;
// otherwise the decoder would hold each keyframe for as many later
// pictures as the source's B-frames need. Units are handed to ffmpeg in
// batches every 100 ms.
//
// A Detector never reports a picture it has not seen: while no session
// runs, while ffmpeg is starting or restarting after a failure (with
// backoff), when a track a check needs cannot be decoded, and when no
// decoded frame arrived for Config.Stale, State is unknown (Known false,
// no condition set, not Healthy).
//
// detect imports internal/media and internal/proc only.
//
// Concurrency: Write never blocks: units go through a bounded queue and
// are dropped, counted, when it is full (video then resumes at the next
// keyframe). Write, Start, End, State and Dropped are safe for concurrent
// use; units must be written in decode order. Run owns every goroutine
// the Detector starts (ffmpeg's two, via internal/proc, and the OnChange
// notifier) and returns after all have ended. OnChange is called from one
// goroutine, in order, never with a lock held.
package detect
