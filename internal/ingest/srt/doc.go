// Package srt is the ingest role's SRT listener. A broadcaster calls
// srt://host:port with streamid=KEY, or the SRT access-control form
// "#!::r=KEY,m=publish" (only publish mode is accepted); when the channel
// has a passphrase the caller must encrypt with it (pbkeylen 16, 24 or 32),
// and unencrypted or wrongly keyed callers are rejected during the SRT
// handshake with a bad-secret/unsecure reason. The payload is MPEG-TS
// (H.264 or H.265 video, AAC audio in ADTS), demuxed into an ingest.Session
// that publishes on the channel's stream.
//
// Bounded waits: HandshakeTimeout from accept until the MPEG-TS program and
// its track configs are known, then ReadTimeout without data cuts the
// connection as stalled. gosrt (v0.11) drops up to Latency of data still
// buffered when the caller closes, so the last ~120 ms of a push may not
// arrive. Garbage UDP datagrams never reach this package: gosrt drops what
// is not an SRT handshake, so they are neither logged nor counted here.
//
// srt imports internal/ingest, internal/media and internal/stream.
// Concurrency: Serve owns one goroutine per connection and returns after
// all of them ended; run one Serve per Server at a time.
package srt
