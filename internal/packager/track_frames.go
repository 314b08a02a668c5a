package packager

import (
	"bytes"
	"math"
	"slices"

	"onair/internal/format/cmaf"
	"onair/internal/media"
)

// paramSets are a video track's parameter sets (raw NAL units).
type paramSets struct {
	vps, sps, pps []byte
}

func (a paramSets) equal(b paramSets) bool {
	return bytes.Equal(a.vps, b.vps) && bytes.Equal(a.sps, b.sps) && bytes.Equal(a.pps, b.pps)
}

// over returns a with the sets present in b replacing a's.
func (a paramSets) over(b paramSets) paramSets {
	if b.vps != nil {
		a.vps = b.vps
	}
	if b.sps != nil {
		a.sps = b.sps
	}
	if b.pps != nil {
		a.pps = b.pps
	}
	return a
}

func (a paramSets) empty() bool { return a.vps == nil && a.sps == nil && a.pps == nil }

// NAL unit classes that the packager treats specially.
const (
	naluOther = iota
	naluAUD
	naluVPS
	naluSPS
	naluPPS
)

// classify returns the class of a NAL unit of codec c (H.264 Table 7-1,
// H.265 Table 7-1).
func classify(c media.Codec, nalu []byte) int {
	if len(nalu) == 0 {
		return naluAUD // nothing to keep
	}
	if c == media.CodecH265 {
		switch (nalu[0] >> 1) & 0x3f {
		case 32:
			return naluVPS
		case 33:
			return naluSPS
		case 34:
			return naluPPS
		case 35:
			return naluAUD
		}
		return naluOther
	}
	switch nalu[0] & 0x1f {
	case 7:
		return naluSPS
	case 8:
		return naluPPS
	case 9:
		return naluAUD
	}
	return naluOther
}

// videoFrame turns a video unit into a frame. It returns a new init when
// the unit starts the session or carries parameter sets that differ from
// the current init's on a keyframe; a nil frame means the unit is dropped.
func (t *Track) videoFrame(u *media.Unit) (*frame, *newInit) {
	codec := t.r.Track.Codec
	var inband paramSets
	for _, n := range u.NALUs {
		switch classify(codec, n) {
		case naluVPS:
			if inband.vps == nil {
				inband.vps = n
			}
		case naluSPS:
			if inband.sps == nil {
				inband.sps = n
			}
		case naluPPS:
			if inband.pps == nil {
				inband.pps = n
			}
		}
	}

	var ni *newInit
	switch {
	case t.seg == nil:
		if !u.Key {
			t.tm.drop("before_keyframe")
			return nil, nil
		}
		ps := paramSets{vps: t.r.Track.VPS, sps: t.r.Track.SPS, pps: t.r.Track.PPS}.over(inband)
		var err error
		if ni, err = t.buildVideoInit(ps); err != nil {
			t.tm.drop("no_parameter_sets")
			t.warnOnce("init", "keyframe without usable parameter sets dropped", "err", err)
			return nil, nil
		}
	case u.Key && !inband.empty():
		if ps := t.params.over(inband); !ps.equal(t.params) {
			var err error
			if ni, err = t.buildVideoInit(ps); err != nil {
				ni = nil // keep the current init; the new sets stay in-band
				t.warnOnce("init-change", "changed parameter sets unusable; kept in-band", "err", err)
			}
		}
	}

	strip := t.params
	if ni != nil {
		strip = ni.params
	}
	data := sampleData(codec, u.NALUs, strip)
	if len(data) == 0 {
		t.tm.drop("empty")
		return nil, nil
	}

	dt := uint64(u.DTS)
	if t.held != nil {
		if step := u.DTS - t.held.dts; step > 0 {
			t.measured = step
		}
		// Decode times strictly increase, whatever the source did.
		dt = max(dt, t.held.dt+1)
	}
	cto := int64(u.PTS) - int64(dt)
	cto = min(max(cto, math.MinInt32), math.MaxInt32)
	return &frame{pts: u.PTS, dts: u.DTS, dt: dt, cto: int32(cto), sync: u.Key, data: data, wall: u.Wall}, ni
}

// sampleData is the avc1/hvc1 sample of an access unit: its NAL units
// length-prefixed, without access unit delimiters and without parameter
// sets equal to the init's (strip).
func sampleData(codec media.Codec, nalus [][]byte, strip paramSets) []byte {
	size := 0
	for _, n := range nalus {
		size += 4 + len(n)
	}
	data := make([]byte, 0, size)
	for _, n := range nalus {
		keep := true
		switch classify(codec, n) {
		case naluAUD:
			keep = false
		case naluVPS:
			keep = !bytes.Equal(n, strip.vps)
		case naluSPS:
			keep = !bytes.Equal(n, strip.sps)
		case naluPPS:
			keep = !bytes.Equal(n, strip.pps)
		}
		if keep {
			data = cmaf.AppendNALUs(data, [][]byte{n})
		}
	}
	return data
}

func (t *Track) buildVideoInit(ps paramSets) (*newInit, error) {
	tr := t.r.Track
	// Own copies: the unit's buffers belong to the stream.
	ps = paramSets{vps: slices.Clone(ps.vps), sps: slices.Clone(ps.sps), pps: slices.Clone(ps.pps)}
	tr.VPS, tr.SPS, tr.PPS = ps.vps, ps.sps, ps.pps
	data, info, err := cmaf.Init(tr)
	if err != nil {
		return nil, err
	}
	return &newInit{params: ps, data: data, info: info}, nil
}

// audioFrame turns an AAC unit into a frame whose decode time comes from
// the session's running sample counter: the first frame starts at
// round(DTS * rate / 90000), every frame lasts exactly one frame, so the
// audio timeline never drifts. When the timestamps and the counter
// disagree by more than a frame (a gap upstream), a gap re-aligns the
// counter and an overlap drops the frame.
func (t *Track) audioFrame(u *media.Unit) *frame {
	if len(u.Audio) == 0 {
		t.tm.drop("empty")
		return nil
	}
	rate := uint64(t.timescale)
	at := (uint64(u.DTS)*rate + media.Timescale/2) / media.Timescale
	if t.seg == nil && t.held == nil {
		t.audioNext = at
	}
	fd := uint64(t.audioDur)
	switch {
	case at > t.audioNext+fd:
		t.tm.resync.Inc()
		t.warnOnce("audio-gap", "audio gap: sample counter re-aligned to the timestamps", "gap_samples", at-t.audioNext)
		t.audioNext = at
	case at+fd < t.audioNext:
		t.tm.resync.Inc()
		t.tm.drop("audio_overlap")
		t.warnOnce("audio-overlap", "audio frames overlap: dropping frames to stay in sync", "overlap_samples", t.audioNext-at)
		return nil
	}
	dt := t.audioNext
	t.audioNext += fd
	return &frame{pts: u.PTS, dts: u.DTS, dt: dt, sync: true, data: u.Audio, wall: u.Wall}
}
