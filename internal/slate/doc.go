// Package slate renders the stand-by picture and the silence that stand in
// for a channel's media while it has none: one CMAF track per rendition,
// an init segment and one media segment of exactly one segment duration,
// encoded once by ffmpeg and then re-timed to any segment number by
// patching its tfdt and mfhd boxes, so a slate can run for as long as an
// outage lasts at the cost of a copy per segment.
//
// The picture is an image file scaled and padded to the rendition's size,
// or a dark card with a line of text; the audio is AAC silence. Video
// segments hold frameRate × duration frames and start with a keyframe;
// audio segments hold enough AAC frames to cover the duration (up to one
// frame more: players splice the overlap).
//
// slate imports no other onair package. Tracks are immutable and safe for
// concurrent use; Render* run one ffmpeg each and honour ctx.
package slate
