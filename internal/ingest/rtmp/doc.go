// Package rtmp is the ingest role's RTMP listener (RTMPS is the same server
// on a TLS listener the caller wraps). A broadcaster publishes to
// rtmp://host:1935/live/KEY; the key is the last element of the publish URL's
// path, query string stripped. The Router resolves it to a channel, and the
// connection's FLV-in-RTMP messages (H.264, H.265 and AAC, legacy or
// Enhanced RTMP) become a publisher session on that channel's stream through
// an ingest.Session. Play (pull) requests are refused.
//
// Every connection has bounded waits: HandshakeTimeout covers the TCP
// accept up to the publish command, then every read must complete within
// ReadTimeout (stall detection). A refused or cut connection is logged once
// and counted; a handler that panics is recovered, counted and closed
// without touching other connections.
//
// rtmp imports internal/ingest, internal/media and internal/stream.
// Concurrency: Serve owns one goroutine per connection and returns after
// all of them ended. Serve may run on several listeners at once (RTMP and
// RTMPS) with one Server; MaxConns counts across them.
package rtmp
