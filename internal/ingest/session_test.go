package ingest

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"onair/internal/media"
	"onair/internal/stream"
)

// Parameter sets from x264 (testsrc2 320x240 at 30 fps, 640x360 at 25 fps).
var (
	sps320 = mustHex("6742c00dda0507ec0440000003004000000f03c50aa8")
	sps640 = mustHex("6742c01eda0280bfe5c044000003000400000300c83c58ba80")
	pps    = mustHex("68ce0fc8")
	idr    = []byte{0x65, 0x88, 0x84, 0x00}
	pslice = []byte{0x41, 0x9a, 0x02, 0x00}
	aud    = []byte{0x09, 0xf0}
	aac    = mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 48000, ChannelConfig: 2}
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func newStream(t *testing.T) *stream.Stream {
	t.Helper()
	st, err := stream.New(stream.Config{Grid: media.Grid{Segment: 2 * time.Second, Part: 500 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func newSession(t *testing.T, st *stream.Stream) (*Session, *Metrics) {
	t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	s := NewSession(SessionConfig{Protocol: "test", Remote: "127.0.0.1:1", Target: Target{Channel: "ch", Stream: st}, Metrics: m, MaxWait: time.Second, MaxUnits: 100})
	t.Cleanup(s.Close)
	return s, m
}

// next returns the reader's next event or fails after a second.
func next(t *testing.T, r *stream.Reader) stream.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	ev, err := r.Read(ctx)
	if err != nil {
		t.Fatalf("read event: %v", err)
	}
	return ev
}

// none fails if the reader has an event ready.
func none(t *testing.T, r *stream.Reader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if ev, err := r.Read(ctx); err == nil {
		t.Fatalf("unexpected event %+v", ev)
	}
}

const frame = 3000 // 90 kHz ticks per frame at 30 fps

func TestSessionPublishesAtFirstKeyframe(t *testing.T) {
	st := newStream(t)
	r := st.NewReader()
	defer r.Close()
	s, m := newSession(t, st)
	if err := s.SetVideoCodec(media.CodecH264); err != nil {
		t.Fatal(err)
	}
	// A P frame before any keyframe is useless and dropped.
	if err := s.WriteVideo(0, 0, [][]byte{pslice}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if st.Active() {
		t.Fatal("published before a keyframe")
	}
	// In-band parameter sets with the keyframe (MPEG-TS style), and an AUD.
	if err := s.WriteVideo(frame, frame, [][]byte{aud, sps320, pps, idr}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	ev := next(t, r)
	if ev.Type != stream.EventSession {
		t.Fatalf("event %v, want session", ev.Type)
	}
	v := ev.Session.Video
	if v.Codec != media.CodecH264 || v.Width != 320 || v.Height != 240 || v.FPS != 30 || ev.Session.Audio != nil {
		t.Fatalf("video track %+v audio %+v", v, ev.Session.Audio)
	}
	ev = next(t, r)
	if ev.Type != stream.EventUnit || !ev.Unit.Key || len(ev.Unit.NALUs) != 3 || !bytes.Equal(ev.Unit.NALUs[0], sps320) {
		t.Fatalf("first unit %+v, want keyframe SPS PPS IDR without AUD", ev.Unit)
	}
	if got := counter(t, m.Connections.WithLabelValues("test", "accepted")); got != 1 {
		t.Fatalf("accepted = %v", got)
	}
	s.Close()
	if ev := next(t, r); ev.Type != stream.EventEnd {
		t.Fatalf("event %v after close, want end", ev.Type)
	}
}

func TestSessionPrependsOutOfBandParams(t *testing.T) {
	st := newStream(t)
	r := st.NewReader()
	defer r.Close()
	s, _ := newSession(t, st)
	_ = s.SetVideoCodec(media.CodecH264)
	s.SetParams(nil, sps320, pps) // RTMP sequence header
	for i := range 31 {
		nalu := pslice
		if i%30 == 0 {
			nalu = idr
		}
		if err := s.WriteVideo(int64(i)*frame, int64(i)*frame, [][]byte{nalu}, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	next(t, r) // session
	for i := range 31 {
		u := next(t, r).Unit
		wantKey := i%30 == 0
		if u.Key != wantKey {
			t.Fatalf("unit %d key=%v", i, u.Key)
		}
		if wantKey && (len(u.NALUs) != 3 || !bytes.Equal(u.NALUs[0], sps320) || !bytes.Equal(u.NALUs[1], pps)) {
			t.Fatalf("keyframe %d lacks parameter sets: %d NALUs", i, len(u.NALUs))
		}
		if !wantKey && len(u.NALUs) != 1 {
			t.Fatalf("unit %d has %d NALUs", i, len(u.NALUs))
		}
	}
}

func TestSessionWaitsForDeclaredAudio(t *testing.T) {
	st := newStream(t)
	r := st.NewReader()
	defer r.Close()
	s, _ := newSession(t, st)
	_ = s.SetVideoCodec(media.CodecH264)
	s.SetParams(nil, sps320, pps)
	s.DeclareAudio()
	_ = s.WriteVideo(0, 0, [][]byte{idr}, time.Time{})
	_ = s.WriteVideo(frame, frame, [][]byte{pslice}, time.Time{})
	if st.Active() {
		t.Fatal("published before the declared audio config")
	}
	if err := s.SetAudioConfig(aac); err != nil {
		t.Fatal(err)
	}
	_ = s.WriteAudio(2*frame, []byte{1, 2, 3}, time.Time{})
	ev := next(t, r)
	if ev.Type != stream.EventSession || ev.Session.Audio == nil {
		t.Fatalf("event %+v, want a session with audio", ev)
	}
	a := ev.Session.Audio
	if a.Codec != media.CodecAAC || a.SampleRate != 48000 || a.Channels != 2 || len(a.AudioConfig) == 0 {
		t.Fatalf("audio track %+v", a)
	}
	// The buffer is replayed in order: keyframe, P frame, audio.
	kinds := []media.Kind{media.KindVideo, media.KindVideo, media.KindAudio}
	for i, k := range kinds {
		u := next(t, r).Unit
		if u.Kind != k {
			t.Fatalf("replayed unit %d is %v, want %v", i, u.Kind, k)
		}
	}
}

func TestSessionPublishesVideoOnlyWhenAudioConfigNeverComes(t *testing.T) {
	st := newStream(t)
	r := st.NewReader()
	defer r.Close()
	s, _ := newSession(t, st)
	_ = s.SetVideoCodec(media.CodecH264)
	s.SetParams(nil, sps320, pps)
	s.DeclareAudio()
	for i := range 40 { // 1.3 s > MaxWait
		nalu := pslice
		if i == 0 {
			nalu = idr
		}
		if err := s.WriteVideo(int64(i)*frame, int64(i)*frame, [][]byte{nalu}, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	ev := next(t, r)
	if ev.Type != stream.EventSession || ev.Session.Audio != nil {
		t.Fatalf("event %+v, want a video-only session", ev)
	}
}

func TestSessionNoKeyframe(t *testing.T) {
	tests := []struct {
		name   string
		params bool
	}{
		{name: "no keyframe at all", params: true},
		{name: "keyframe without parameter sets", params: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStream(t)
			s, _ := newSession(t, st)
			_ = s.SetVideoCodec(media.CodecH264)
			if tt.params {
				s.SetParams(nil, sps320, pps)
			}
			var err error
			for i := 0; i < 200 && err == nil; i++ {
				nalu := pslice
				if !tt.params && i == 0 {
					nalu = idr
				}
				err = s.WriteVideo(int64(i)*frame, int64(i)*frame, [][]byte{nalu}, time.Time{})
			}
			if !errors.Is(err, ErrNoKeyframe) || ResultOf(err) != ResultNoKeyframe {
				t.Fatalf("err = %v (result %s), want no keyframe", err, ResultOf(err))
			}
			if st.Active() {
				t.Fatal("stream became active")
			}
		})
	}
}

func TestSessionBusy(t *testing.T) {
	st := newStream(t)
	first, _ := newSession(t, st)
	_ = first.SetVideoCodec(media.CodecH264)
	if err := first.WriteVideo(0, 0, [][]byte{sps320, pps, idr}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	second, _ := newSession(t, st)
	_ = second.SetVideoCodec(media.CodecH264)
	err := second.WriteVideo(0, 0, [][]byte{sps320, pps, idr}, time.Time{})
	if ResultOf(err) != ResultBusy || !errors.Is(err, stream.ErrBusy) {
		t.Fatalf("second publisher: %v, want busy", err)
	}
	second.Close()
	r := st.NewReader()
	defer r.Close()
	if err := first.WriteVideo(frame, frame, [][]byte{sps320, pps, idr}, time.Time{}); err != nil {
		t.Fatalf("first publisher after the refusal: %v", err)
	}
	if ev := next(t, r); ev.Type != stream.EventSession || ev.Session.Source != "test 127.0.0.1:1" {
		t.Fatalf("event %+v", ev)
	}
}

func TestSessionRestarts(t *testing.T) {
	tests := []struct {
		name string
		// second keyframe's NALUs and DTS
		nalus [][]byte
		dts   int64
		width int
	}{
		{name: "new sps", nalus: [][]byte{sps640, pps, idr}, dts: 2 * frame, width: 640},
		{name: "timestamps back", nalus: [][]byte{sps320, pps, idr}, dts: 0, width: 320},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStream(t)
			r := st.NewReader()
			defer r.Close()
			s, _ := newSession(t, st)
			_ = s.SetVideoCodec(media.CodecH264)
			_ = s.WriteVideo(frame, frame, [][]byte{sps320, pps, idr}, time.Time{})
			_ = s.WriteVideo(2*frame, 2*frame, [][]byte{pslice}, time.Time{})
			first := next(t, r).Session
			next(t, r)
			next(t, r)
			// A P frame going back in time is dropped.
			_ = s.WriteVideo(frame, frame, [][]byte{pslice}, time.Time{})
			if err := s.WriteVideo(tt.dts, tt.dts, tt.nalus, time.Time{}); err != nil {
				t.Fatal(err)
			}
			if ev := next(t, r); ev.Type != stream.EventEnd || ev.SessionID != first.ID {
				t.Fatalf("event %+v, want end of session %d", ev, first.ID)
			}
			ev := next(t, r)
			if ev.Type != stream.EventSession || ev.Session.ID == first.ID || ev.Session.Video.Width != tt.width {
				t.Fatalf("event %+v, want a new session %d wide", ev, tt.width)
			}
			if u := next(t, r).Unit; !u.Key {
				t.Fatal("new session does not start with its keyframe")
			}
			if s.Dropped() != 1 {
				t.Fatalf("dropped %d, want 1", s.Dropped())
			}
		})
	}
}

func TestSessionRejectsUnsupportedVideo(t *testing.T) {
	s, _ := newSession(t, newStream(t))
	err := s.SetVideoCodec("vp8")
	if ResultOf(err) != ResultUnsupportedCodec {
		t.Fatalf("err = %v", err)
	}
}

func counter(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	m := <-ch
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		t.Fatal(err)
	}
	if out.Counter != nil {
		return out.Counter.GetValue()
	}
	return out.Gauge.GetValue()
}
