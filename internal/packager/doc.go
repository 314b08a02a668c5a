// Package packager is the packaging role: it turns the channel-clock access
// units of one rendition into CMAF fMP4 (an init segment, and media
// segments made of parts: LL-HLS partial segments are CMAF chunks), publishes
// every part in the live index the moment it closes, and writes every object
// once (immutable) to the object store.
//
// Timing follows the channel clock (shared/DESIGN.md): segment n covers
// [n*D, (n+1)*D) and part p of it [n*D + p*P, n*D + (p+1)*P). A segment's
// number is always derived from time, never counted. Video tracks use the
// 90 kHz timescale, so tfdt is the channel DTS; audio tracks use the sample
// rate with an exact running sample counter per session, so audio tfdt
// never drifts. A Track holds exactly one frame (the next frame's DTS gives
// the last sample's duration) and emits a part as soon as a frame crosses a
// part boundary.
//
// Objects go to the live index first and then to the store, so a viewer
// never waits on a disk. Store failures are counted, logged once per
// period, and queued (bounded by bytes) for Run to retry with backoff; they
// never fail a Write. Segments that leave the live window are deleted from
// the store after Config.Retention by Run.
//
// packager imports internal/media, internal/live, internal/objstore and
// internal/format/cmaf.
//
// Concurrency: Packager methods are safe for concurrent use. A Track belongs
// to one writer goroutine: Write and Close must not be called concurrently
// on the same Track. Different Tracks may be written concurrently.
package packager
