// Package live is the live index: per channel and rendition, the init
// segment, the window of media segments and their parts, and the bytes of
// the newest ones. The packager writes it; the origin builds manifests from
// snapshots of it and blocks on it for LL-HLS blocking playlist reloads and
// preload-hinted parts.
//
// Object keys are "{channel}/{rendition}/init.mp4", "{channel}/{rendition}/{n}.m4s"
// and "{channel}/{rendition}/{n}.{p}.m4s" (see Key functions); the same names
// appear in playback URLs under /live/.
//
// Concurrency: all methods are safe for concurrent use. Waiters are woken by
// closing a per-rendition channel that is replaced on every change, and every
// wait also watches its context.
//
// live imports only internal/media.
package live
