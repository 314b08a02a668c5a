// Package media holds onair's domain values: codecs, tracks, access units,
// renditions and the ladder, and the channel clock that every other part of
// the pipeline agrees on.
//
// The channel clock (see shared/DESIGN.md): every channel has one clock in
// 90 kHz ticks. Segment n of every rendition covers [n*D, (n+1)*D) on it and
// part p of segment n covers [n*D + p*P, n*D + (p+1)*P). A source's
// timestamps are mapped onto the clock once per publisher session (Mapping),
// so numbering never goes back and real gaps are visible as jumps.
//
// media imports no internal package. Its values are plain data, safe to copy;
// nothing here is safe for concurrent mutation unless stated.
package media
