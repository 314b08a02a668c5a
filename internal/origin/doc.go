// Package origin is the origin role: it serves live playback over HTTP,
// building every manifest on request from the live index (internal/live)
// and serving media objects from the index's memory or, once they have left
// it, from the object store (internal/objstore).
//
// # URLs
//
// The same paths are served at every tier (origin, shield, edge); they are
// stable and part of onair's public interface:
//
//	/live/{channel}/master.m3u8                HLS multivariant playlist
//	/live/{channel}/{rendition}/index.m3u8     HLS media playlist (LL-HLS)
//	/live/{channel}/{rendition}/init.mp4       CMAF init segment (first)
//	/live/{channel}/{rendition}/init-{n}.mp4   CMAF init segment used from segment n on
//	/live/{channel}/{rendition}/{n}.m4s        CMAF segment n (immutable)
//	/live/{channel}/{rendition}/{n}.{p}.m4s    LL-HLS part p of segment n (immutable)
//	/live/{channel}/manifest.mpd               DASH MPD (type dynamic)
//	/time                                      UTC time, ISO 8601 with ms (DASH UTCTiming)
//
// Channel and rendition names match [a-zA-Z0-9_-]{1,64}; numbers are plain
// decimal without sign or leading zeros. Media playlists accept the LL-HLS
// delivery directives _HLS_msn and _HLS_part (blocking playlist reload,
// RFC 8216bis section 6.2.5.2); _HLS_skip is ignored and CAN-SKIP-UNTIL is
// never advertised. Other query parameters (signed-URL tokens, cache
// busters) are ignored.
//
// Only GET and HEAD are served (OPTIONS answers CORS preflights); any other
// method gets 405. Malformed paths (dot segments, percent-encoding, names
// outside the alphabet, empty elements) get 400, paths over 512 bytes 414,
// well-formed paths that name nothing 404.
//
// # Cache policy
//
// Every response says what a cache may do with it (shared/DESIGN.md):
// segments, parts and init segments "public, max-age=D+10" (whole seconds);
// playlists and the MPD "public, max-age=1"; a 404 for an object or channel
// that does not exist (yet) "public, max-age=1"; other 4xx and every 5xx
// "no-store". Blocking playlist responses have a unique URL per
// _HLS_msn/_HLS_part, so a shared cache can keep them without confusing
// clients. Playback responses carry Access-Control-Allow-Origin: *.
//
// # Holding requests
//
// A blocking playlist reload, and a request for a part or segment at most
// one segment ahead of the newest (the preload-hinted part, for instance),
// is held until the object exists, the hold reaches Config.BlockTimeout
// (then 503 with Retry-After), or the client goes away. Requests further
// in the future get 404 at once.
//
// # Imports and concurrency
//
// origin imports internal/live, internal/objstore, internal/media and
// internal/format/hls. An Origin has no goroutines of its own; its handler
// is safe for concurrent use and every wait watches the request context.
package origin
