// Package stream is the seam between ingest and everything downstream: one
// long-lived Stream per channel, written by at most one publisher session at
// a time and read by any number of Readers.
//
// A publisher writes access units with source timestamps. The stream decides
// the session's mapping onto the channel clock at the first video keyframe
// (media.NewMapping) and hands readers channel-clock units only, so the
// transcoder never sees a connection and a later input switch can swap the
// source under it.
//
// Concurrency: Publisher.Write never blocks on readers. Each Reader has a
// bounded queue; when it is full, units are dropped for that reader alone,
// counted, and delivery resumes at the next video keyframe. Session start and
// end markers are never dropped. All methods are safe for concurrent use.
//
// stream imports only internal/media.
package stream
