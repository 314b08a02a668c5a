package detect

import (
	"encoding/binary"
	"math"
)

// The Detector feeds ffmpeg a live Matroska stream rather than MPEG-TS:
// a Matroska block is one complete frame, so ffmpeg's demuxer hands each
// frame to the decoder as soon as it is read. From MPEG-TS, ffmpeg keeps
// a video PES until the next one starts and its H.264/H.265 parser keeps
// an access unit until the next one begins: one frame of delay, which
// with keyframes alone is a whole GOP or two.
//
// mkvWriter writes the minimum ffmpeg needs (Matroska spec, RFC 9559):
// the EBML header, a Segment of unknown size with Info (timestamps in
// microseconds) and Tracks, then one Cluster of known size per frame,
// holding the cluster Timestamp and a single SimpleBlock.

// Element IDs (RFC 9559, section 5.1).
const (
	idEBML               = 0x1A45DFA3
	idEBMLVersion        = 0x4286
	idEBMLReadVersion    = 0x42F7
	idEBMLMaxIDLength    = 0x42F2
	idEBMLMaxSizeLength  = 0x42F3
	idDocType            = 0x4282
	idDocTypeVersion     = 0x4287
	idDocTypeReadVersion = 0x4285
	idSegment            = 0x18538067
	idInfo               = 0x1549A966
	idTimestampScale     = 0x2AD7B1
	idMuxingApp          = 0x4D80
	idWritingApp         = 0x5741
	idTracks             = 0x1654AE6B
	idTrackEntry         = 0xAE
	idTrackNumber        = 0xD7
	idTrackUID           = 0x73C5
	idTrackType          = 0x83
	idFlagLacing         = 0x9C
	idCodecID            = 0x86
	idCodecPrivate       = 0x63A2
	idVideo              = 0xE0
	idPixelWidth         = 0xB0
	idPixelHeight        = 0xBA
	idAudio              = 0xE1
	idSamplingFrequency  = 0xB5
	idChannels           = 0x9F
	idCluster            = 0x1F43B675
	idTimestamp          = 0xE7
	idSimpleBlock        = 0xA3
)

// mkvTimestampScale makes Matroska timestamps microseconds (the scale is
// in nanoseconds), so ffmpeg's stream time base is 1/1000000.
const mkvTimestampScale = 1000

// Track numbers in the fed stream.
const (
	mkvVideoTrack = 1
	mkvAudioTrack = 2
)

// mkvTrack describes one track for the Tracks element.
type mkvTrack struct {
	number  uint64
	video   bool
	codecID string // "V_MPEG4/ISO/AVC", "V_MPEGH/ISO/HEVC", "A_AAC"
	private []byte // CodecPrivate: avcC, hvcC or AudioSpecificConfig
	// Video.
	width, height int
	// Audio.
	sampleRate float64
	channels   int
}

// ebml builds EBML elements.
type ebml []byte

func (b ebml) id(id uint32) ebml {
	switch {
	case id > 0xFFFFFF:
		return append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	case id > 0xFFFF:
		return append(b, byte(id>>16), byte(id>>8), byte(id))
	case id > 0xFF:
		return append(b, byte(id>>8), byte(id))
	}
	return append(b, byte(id))
}

// size appends n as an EBML variable-size integer of minimal length.
func (b ebml) size(n uint64) ebml {
	l := 1
	for l < 8 && n >= 1<<(7*l)-1 {
		l++
	}
	for i := l - 1; i >= 0; i-- {
		v := byte(n >> (8 * i))
		if i == l-1 {
			v |= 0x80 >> (l - 1)
		}
		b = append(b, v)
	}
	return b
}

func (b ebml) bytes(id uint32, data []byte) ebml {
	return append(b.id(id).size(uint64(len(data))), data...)
}

func (b ebml) uint(id uint32, v uint64) ebml {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], v)
	i := 0
	for i < 7 && buf[i] == 0 {
		i++
	}
	return b.bytes(id, buf[i:])
}

func (b ebml) float(id uint32, v float64) ebml {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], math.Float64bits(v))
	return b.bytes(id, buf[:])
}

func (b ebml) str(id uint32, s string) ebml { return b.bytes(id, []byte(s)) }

// mkvHeader returns the EBML header, the opening of an unknown-size
// Segment, Info and Tracks.
func mkvHeader(tracks []mkvTrack) []byte {
	var head ebml
	head = head.uint(idEBMLVersion, 1).uint(idEBMLReadVersion, 1).
		uint(idEBMLMaxIDLength, 4).uint(idEBMLMaxSizeLength, 8).
		str(idDocType, "matroska").uint(idDocTypeVersion, 4).uint(idDocTypeReadVersion, 2)
	out := ebml(nil).bytes(idEBML, head)
	// The 8-byte "unknown" size: a live stream.
	out = append(out.id(idSegment), 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)

	var info ebml
	info = info.uint(idTimestampScale, mkvTimestampScale).str(idMuxingApp, "onair").str(idWritingApp, "onair")
	out = out.bytes(idInfo, info)

	var entries ebml
	for _, t := range tracks {
		var e ebml
		e = e.uint(idTrackNumber, t.number).uint(idTrackUID, t.number).uint(idFlagLacing, 0).str(idCodecID, t.codecID)
		if len(t.private) > 0 {
			e = e.bytes(idCodecPrivate, t.private)
		}
		if t.video {
			e = e.uint(idTrackType, 1)
			var v ebml
			v = v.uint(idPixelWidth, uint64(max(t.width, 1))).uint(idPixelHeight, uint64(max(t.height, 1)))
			e = e.bytes(idVideo, v)
		} else {
			e = e.uint(idTrackType, 2)
			var a ebml
			a = a.float(idSamplingFrequency, t.sampleRate).uint(idChannels, uint64(max(t.channels, 1)))
			e = e.bytes(idAudio, a)
		}
		entries = entries.bytes(idTrackEntry, e)
	}
	return out.bytes(idTracks, entries)
}

// mkvFrame returns one Cluster holding one frame of track at ts
// (microseconds, not negative). frame is appended by the caller's
// payload function so large frames are copied once: payload is called
// with the buffer to append to.
func mkvFrame(buf []byte, track uint64, ts int64, key bool, payloadLen int, payload func([]byte) []byte) []byte {
	var clusterHead ebml
	clusterHead = clusterHead.uint(idTimestamp, uint64(ts))
	// SimpleBlock: track number (vint), int16 relative timestamp, flags.
	blockHead := ebml(nil).size(track)
	flags := byte(0)
	if key {
		flags = 0x80
	}
	blockHead = append(blockHead, 0, 0, flags)
	blockLen := len(blockHead) + payloadLen
	block := ebml(nil).id(idSimpleBlock).size(uint64(blockLen))
	clusterLen := len(clusterHead) + len(block) + blockLen

	out := ebml(buf).id(idCluster).size(uint64(clusterLen))
	out = append(out, clusterHead...)
	out = append(out, block...)
	out = append(out, blockHead...)
	return payload(out)
}
