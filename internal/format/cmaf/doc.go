// Package cmaf encodes and inspects the CMAF (ISO/IEC 23000-19) fragmented
// MP4 objects that onair publishes: the init segment of one track (ftyp +
// moov, CMAF allows one track per init), the styp box that opens a segment,
// and fragments (moof + mdat, one traf with one trun) that are both LL-HLS
// partial segments and CMAF chunks.
//
// It also derives what manifests need from a media.Track: the RFC 6381
// codecs string (avc1.PPCCLL, hvc1..., mp4a.40.N), the track timescale
// (90000 for video so that media time equals channel time; the sample rate
// for audio) and picture size or channel count. ParseFragments reads back the
// timing of fragments for tests and health checks.
//
// cmaf is a pure wire-format package: no I/O, no policy, no clocks. It
// imports internal/media and libraries (mp4ff, mediacommon) only. Every
// function is safe for concurrent use; values returned are owned by the
// caller.
package cmaf
