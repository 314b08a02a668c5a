package rtmp

import (
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/abema/go-mp4"
	"github.com/bluenviron/gortmplib/pkg/amf0"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"onair/internal/ingest"
	"onair/internal/ingest/ingesttest"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// avcc frames NAL units with 4-byte lengths.
func avcc(nalus ...[]byte) []byte {
	var out []byte
	for _, n := range nalus {
		out = append(out, byte(len(n)>>24), byte(len(n)>>16), byte(len(n)>>8), byte(len(n)))
		out = append(out, n...)
	}
	return out
}

// TestDemuxMetadata checks that onMetaData supplies the frame rate when
// the SPS has none and makes the session wait for the declared audio.
func TestDemuxMetadata(t *testing.T) {
	router := ingesttest.NewRouter()
	st := router.Add(t, "k", "news", "")
	w := ingesttest.Watch(t, st)
	m, err := ingest.NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	target, _ := router.Route("k")
	sess := ingest.NewSession(ingest.SessionConfig{Protocol: protocol, Remote: "pipe", Target: target, Metrics: m})
	defer sess.Close()
	d := newDemuxer(sess)
	spsNoTiming := unhex(t, "6742c00dda0507e4") // 320x240, no VUI
	pps := unhex(t, "68ce0fc8")
	msgs := []message.Message{
		&message.DataAMF0{Payload: amf0.Data{"@setDataFrame", "onMetaData", amf0.ECMAArray{
			{Key: "width", Value: 320.0}, {Key: "framerate", Value: 25.0}, {Key: "audiocodecid", Value: 10.0},
		}}},
		&message.Video{Codec: message.CodecH264, Type: message.VideoTypeConfig, AVCConfig: &mp4.AVCDecoderConfiguration{
			SequenceParameterSets: []mp4.AVCParameterSet{{NALUnit: spsNoTiming}},
			PictureParameterSets:  []mp4.AVCParameterSet{{NALUnit: pps}},
		}},
		&message.Video{Codec: message.CodecH264, Type: message.VideoTypeAU, IsKeyFrame: true, AU: avcc([]byte{0x65, 1, 2})},
		&message.Video{Codec: message.CodecH264, Type: message.VideoTypeAU, DTS: 40 * time.Millisecond, PTSDelta: 40 * time.Millisecond, AU: avcc([]byte{0x41, 1, 2})},
	}
	for _, msg := range msgs {
		if err := d.handle(msg, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if st.Active() {
		t.Fatal("published before the declared audio config")
	}
	asc := mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 44100, ChannelConfig: 2}
	for _, msg := range []message.Message{
		&message.Audio{Codec: message.CodecMPEG4Audio, AACType: message.AudioAACTypeConfig, AACConfig: &asc},
		&message.Audio{Codec: message.CodecMPEG4Audio, AACType: message.AudioAACTypeAU, DTS: 50 * time.Millisecond, AU: []byte{0x21, 0x10}},
	} {
		if err := d.handle(msg, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	s := w.Wait(t, time.Second, "session and its three units", func(s ingesttest.Stats) bool { return len(s.Sessions) == 1 && s.Video+s.Audio == 3 })
	v, a := s.Sessions[0].Video, s.Sessions[0].Audio
	if v.FPS != 25 || v.Width != 320 || a == nil || a.SampleRate != 44100 || a.Channels != 2 {
		t.Fatalf("video %+v audio %+v", v, a)
	}
}

func TestDemuxRefusesCodecs(t *testing.T) {
	m, _ := ingest.NewMetrics(nil)
	router := ingesttest.NewRouter()
	router.Add(t, "k", "news", "")
	target, _ := router.Route("k")
	tests := []struct {
		name string
		msg  message.Message
		want string
	}{
		{"mp3", &message.Audio{Codec: message.CodecMPEG1Audio, AU: []byte{1}}, "unsupported audio codec MP3 (supported: AAC)"},
		{"g711", &message.Audio{Codec: message.CodecPCMA, AU: []byte{1}}, "unsupported audio codec G.711 A-law (supported: AAC)"},
		{"opus", &message.AudioExSequenceStart{FourCC: message.FourCCOpus}, `unsupported audio codec "Opus" (supported: AAC)`},
		{"av1", &message.VideoExSequenceStart{FourCC: message.FourCCAV1}, `unsupported video codec "av01" (supported: H.264, H.265)`},
		{"vp9 frames", &message.VideoExCodedFrames{FourCC: message.FourCCVP9, Payload: []byte{1}}, `unsupported video codec "vp09" (supported: H.264, H.265)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess := ingest.NewSession(ingest.SessionConfig{Protocol: protocol, Remote: "pipe", Target: target, Metrics: m})
			defer sess.Close()
			err := newDemuxer(sess).handle(tt.msg, time.Now())
			if ingest.ResultOf(err) != ingest.ResultUnsupportedCodec || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestUnsupportedFromReadError(t *testing.T) {
	tests := []struct {
		err  error
		want string // "" for not a codec problem
	}{
		{errors.New("unsupported video codec: 2"), "unsupported video codec Sorenson H.263 (flv1) (supported: H.264, H.265)"},
		{errors.New("unsupported video codec: 4"), "unsupported video codec On2 VP6 (supported: H.264, H.265)"},
		{errors.New("unsupported audio codec: 11"), "unsupported audio codec Speex (supported: AAC)"},
		{errors.New("unsupported fourCC: 1987470129"), `unsupported codec "vvc1" (supported: video H.264, H.265, audio AAC)`},
		{errors.New("unsupported fourCC: 1"), "unsupported codec fourcc 0x00000001 (supported: video H.264, H.265, audio AAC)"},
		{errors.New("unsupported video codec: "), ""},
		{errors.New("invalid rtmp version (71)"), ""},
	}
	for _, tt := range tests {
		got := unsupportedFromReadError(tt.err)
		switch {
		case tt.want == "" && got != nil:
			t.Errorf("%v: got %v, want nil", tt.err, got)
		case tt.want != "" && (got == nil || got.Error() != tt.want || ingest.ResultOf(got) != ingest.ResultUnsupportedCodec):
			t.Errorf("%v: got %v, want %q", tt.err, got, tt.want)
		}
	}
}
