// Package ingest is the ingest role's shared core: it turns one broadcaster's
// push (RTMP/RTMPS in package ingest/rtmp, SRT in package ingest/srt) into a
// publisher session on the channel's stream.Stream.
//
// The protocol packages demux their container into access units and hand
// them to a Session, which
//   - learns the tracks (codec, parameter sets, AAC AudioSpecificConfig),
//   - buffers, within a bound, until the first video keyframe with its
//     parameter sets (and the audio config when the source declares audio)
//     is known,
//   - then calls stream.Publish, replays the buffer and writes live,
//   - starts a new stream session when the source's parameters change or its
//     timestamps jump back, so readers never see a track change mid-session.
//
// Units a Session writes follow media.Unit: video NAL units without start
// codes (access unit delimiters removed; the parameter sets prepended to every
// keyframe that lacks them, so any keyframe is a self-contained entry point),
// audio as one raw AAC frame per unit, timestamps in 90 kHz source ticks.
//
// Routing: a stream key is resolved by a Router that the app implements. A
// refused or failed connection is logged once, with a Result that is also
// the value of the result label of onair_ingest_connections_total (see
// Metrics).
//
// ingest imports internal/media and internal/stream. Concurrency: a Session
// belongs to one connection goroutine and is not safe for concurrent use;
// Metrics is safe for concurrent use and may be shared by both protocols.
package ingest
