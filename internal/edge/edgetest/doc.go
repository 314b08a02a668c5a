// Package edgetest is a synthetic live LL-HLS origin and a simulated
// LL-HLS viewer, for tests and benchmarks of the edge tier (internal/edge,
// `onair edge`) without ffmpeg or a real pipeline.
//
// # Origin
//
// An Origin serves one channel with onair's playback URLs (internal/origin
// lists them) and onair's playlist format (internal/format/hls): a
// multivariant playlist and, per rendition, an LL-HLS media playlist that
// advances in real time. Part p of segment n is complete at epoch +
// (n*k + p + 1) * P, where k = D / P; segment n is complete with its last
// part. The origin starts with Config.Preroll complete segments, so a
// playlist is there from the first request. Blocking playlist reloads
// (_HLS_msn, _HLS_part; RFC 8216bis section 6.2.5.2) are held until the
// playlist holds the part asked for, as are requests for parts and
// segments at most one segment ahead of the newest; both give up after
// Config.BlockTimeout with 503. Segments and parts have a configurable
// size; every object's body starts with its own path and a newline, so a
// viewer can tell it got the object it asked for.
//
// Cache-Control follows onair's origin: segments, parts and init segments
// "public, max-age=D+10" (whole seconds, rounded up), playlists and 404s
// for objects that may exist later "public, max-age=1", every other error
// "no-store".
//
// The origin counts requests by target (Requests, Total): the path, plus
// the canonical directive (_HLS_msn, _HLS_part) for a blocking reload, so a
// test can assert how much of the viewers' load reached the origin.
//
// # Viewer
//
// A Viewer plays one rendition like hls.js: in low-latency mode it loads
// the playlist once, then issues one blocking reload for the next part
// after another and fetches every new part once; otherwise it reloads the
// plain playlist every Poll and fetches every new complete segment once.
// Each request is reported to ViewerConfig.Observe with its status,
// X-Cache, size and latency.
//
// # Imports and concurrency
//
// edgetest imports internal/format/hls and internal/live (object names).
// An Origin's handler and counters are safe for concurrent use; every hold
// watches the request context. A Viewer's Run owns its goroutine and
// returns nil when its context ends; Observe is called from that
// goroutine.
package edgetest
