// Package hls encodes HTTP Live Streaming playlists (RFC 8216bis, "HTTP Live
// Streaming 2nd Edition"): the multivariant playlist and media playlists
// with the Low-Latency HLS tags (EXT-X-PART, EXT-X-PRELOAD-HINT,
// EXT-X-SERVER-CONTROL, EXT-X-RENDITION-REPORT) and EXT-X-GAP entries.
//
// The package is a pure wire format: typed values in, playlist bytes out.
// It decides nothing about windows, caching or timing; the origin does.
// Encoders append to a caller's buffer so a hot path can reuse memory.
// Quoted-string attribute values have '"', CR and LF removed (RFC 8216bis
// section 4.2 forbids them), so the output is always a well-formed playlist.
//
// hls imports no internal package. Values are plain data; encoding only
// reads them, so concurrent encodes of the same value are safe.
package hls
