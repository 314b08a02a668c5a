package srt

import (
	"context"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	gosrt "github.com/datarhei/gosrt"
	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/ingest"
	"onair/internal/ingest/ingesttest"
	"onair/internal/media"
)

type harness struct {
	addr   string
	reg    *prometheus.Registry
	logs   *ingesttest.Logs
	router *ingesttest.Router
	stop   func() error
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{reg: prometheus.NewRegistry(), router: ingesttest.NewRouter()}
	logs, log := ingesttest.NewLogs()
	h.logs = logs
	cfg.Addr = "127.0.0.1:0"
	srv, err := New(cfg, h.router, log, h.reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	h.addr = srv.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx) }()
	stopped := false
	var serveErr error
	h.stop = func() error {
		if stopped {
			return serveErr
		}
		stopped = true
		cancel()
		select {
		case serveErr = <-errc:
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return 5 s after cancel")
		}
		return serveErr
	}
	t.Cleanup(func() {
		if err := h.stop(); err != nil {
			t.Errorf("Serve returned %v after cancel", err)
		}
	})
	return h
}

// url is what a broadcaster types into ffmpeg: the stream id and
// passphrase URL-encoded in the query.
func (h *harness) url(streamID, passphrase string) string {
	q := url.Values{}
	q.Set("streamid", streamID)
	if passphrase != "" {
		q.Set("passphrase", passphrase)
		q.Set("pbkeylen", "16")
	}
	return "srt://" + h.addr + "?" + q.Encode()
}

func (h *harness) count(t *testing.T, result string) float64 {
	t.Helper()
	return ingesttest.Value(t, h.reg, "onair_ingest_connections_total", map[string]string{"protocol": "srt", "result": result})
}

func (h *harness) publish(t *testing.T, streamID, passphrase string, src, enc []string) *ingesttest.FFmpeg {
	t.Helper()
	args := append(append(append([]string{}, src...), enc...), "-f", "mpegts", h.url(streamID, passphrase))
	return ingesttest.Start(t, args...)
}

const secret = "correct horse battery"

func TestPublish(t *testing.T) {
	tests := []struct {
		name       string
		streamID   string
		passphrase string
		enc        []string
		codec      media.Codec
	}{
		{name: "plain key", streamID: "k1", enc: ingesttest.H264AAC(30, 0), codec: media.CodecH264},
		{name: "access control streamid with passphrase", streamID: "#!::r=k1,m=publish", passphrase: secret, enc: ingesttest.H264AAC(30, 0), codec: media.CodecH264},
		{name: "b-frames", streamID: "k1", enc: ingesttest.H264AAC(30, 2), codec: media.CodecH264},
		{name: "h265", streamID: "k1", codec: media.CodecH265,
			enc: []string{"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "keyint=30:bframes=0:log-level=error", "-c:a", "aac"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			st := h.router.Add(t, "k1", "news", tt.passphrase)
			w := ingesttest.Watch(t, st)
			// -tune zerolatency keeps the encoder from holding frames, so
			// little is left in gosrt's buffer when ffmpeg closes.
			ff := h.publish(t, tt.streamID, tt.passphrase, ingesttest.Source("320x240", 30, true, 3), tt.enc)

			s := w.Wait(t, 10*time.Second, "session", func(s ingesttest.Stats) bool { return len(s.Sessions) > 0 })
			v, a := s.Sessions[0].Video, s.Sessions[0].Audio
			if v.Codec != tt.codec || v.Width != 320 || v.Height != 240 || v.FPS != 30 || len(v.SPS) == 0 || len(v.PPS) == 0 ||
				(tt.codec == media.CodecH265) != (len(v.VPS) > 0) {
				t.Errorf("video track %s %dx%d %v fps (VPS %d bytes), want %s 320x240 30 fps", v.Codec, v.Width, v.Height, v.FPS, len(v.VPS), tt.codec)
			}
			if a == nil || a.Codec != media.CodecAAC || a.SampleRate != 48000 || a.Channels != 1 {
				t.Errorf("audio track %+v, want aac 48000 Hz mono", a)
			}
			if !strings.HasPrefix(s.Sessions[0].Source, "srt 127.0.0.1:") {
				t.Errorf("source %q", s.Sessions[0].Source)
			}
			if stderr, err := ff.Wait(t, 15*time.Second); err != nil {
				t.Fatalf("ffmpeg: %v: %s", err, stderr)
			}
			s = w.Wait(t, 5*time.Second, "end of session", func(s ingesttest.Stats) bool { return s.Ends == 1 })
			if s.Video < 60 || s.Key < 2 || s.Audio < 90 {
				t.Errorf("saw %d video units (%d keyframes), %d audio units", s.Video, s.Key, s.Audio)
			}
			h.logs.Wait(t, 2*time.Second, "publish ended", "channel=news")
			if got := h.count(t, "accepted"); got != 1 {
				t.Errorf("accepted = %v", got)
			}
			if got := ingesttest.Value(t, h.reg, "onair_ingest_active_sessions", map[string]string{"protocol": "srt"}); got != 0 {
				t.Errorf("active sessions after the end = %v", got)
			}
			if got := ingesttest.Value(t, h.reg, "onair_ingest_bytes_total", map[string]string{"protocol": "srt", "channel": "news"}); got < 10_000 {
				t.Errorf("bytes = %v", got)
			}
		})
	}
}

// TestRefusals runs every bad input against one server while another
// channel publishes, and checks each is refused once, clearly, without
// touching that channel.
func TestRefusals(t *testing.T) {
	h := newHarness(t, Config{Limits: ingest.Limits{ReadTimeout: 1500 * time.Millisecond, HandshakeTimeout: 2500 * time.Millisecond}})
	good := h.router.Add(t, "goodkey", "good", secret)
	idle := h.router.Add(t, "idlekey", "idle", "")
	goodW := ingesttest.Watch(t, good)
	h.publish(t, "goodkey", secret, ingesttest.Source("320x240", 30, true, 60), ingesttest.H264AAC(30, 0))
	goodW.Wait(t, 10*time.Second, "good channel session", func(s ingesttest.Stats) bool { return len(s.Sessions) == 1 && s.Video > 10 })

	refused := func(streamID, passphrase string, enc ...string) func(t *testing.T) {
		return func(t *testing.T) {
			if enc == nil {
				enc = ingesttest.H264AAC(30, 0)
			}
			ff := h.publish(t, streamID, passphrase, ingesttest.Source("320x240", 30, true, 3), enc)
			if _, err := ff.Wait(t, 10*time.Second); err == nil {
				t.Error("ffmpeg succeeded")
			}
		}
	}
	tests := []struct {
		name   string
		run    func(t *testing.T)
		result string
		log    []string
	}{
		{name: "unknown key", run: refused("nope", ""), result: "unknown_key",
			log: []string{"ingest connection refused", "unknown stream key", "remote=127.0.0.1:"}},
		{name: "wrong passphrase", run: refused("goodkey", "wrong horse battery"), result: "bad_passphrase",
			log: []string{"ingest connection refused", "channel=good", "wrong passphrase"}},
		{name: "missing passphrase", run: refused("goodkey", ""), result: "bad_passphrase",
			log: []string{"ingest connection refused", "channel=good", "requires encryption"}},
		{name: "second publisher on an active key", run: refused("#!::r=goodkey,m=publish", secret), result: "busy",
			log: []string{"ingest connection refused", "channel=good", "already has an active publisher"}},
		{name: "play mode", run: refused("#!::r=goodkey", secret), result: "error",
			log: []string{"ingest connection refused", `streamid mode \"request\" refused`}},
		{
			name: "garbage datagrams",
			run: func(t *testing.T) {
				c, err := net.Dial("udp", h.addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				rng := rand.New(rand.NewPCG(1, 2))
				for i := range 300 {
					b := make([]byte, 1+rng.IntN(1500))
					for j := range b {
						b[j] = byte(rng.Uint32())
					}
					if i%2 == 0 {
						b[0] |= 0x80 // looks like a control packet
					}
					_, _ = c.Write(b)
				}
				// The listener still answers: a real caller is still refused
				// properly.
				refused("nope2", "")(t)
			},
			result: "unknown_key",
			log:    []string{"ingest connection refused", "unknown stream key"},
		},
		{
			name: "garbage payload",
			run: func(t *testing.T) {
				c := dial(t, h.addr, "idlekey")
				rng := rand.New(rand.NewPCG(3, 4))
				buf := make([]byte, 1316)
				deadline := time.Now().Add(3 * time.Second)
				for time.Now().Before(deadline) {
					for j := range buf {
						buf[j] = byte(rng.Uint32())
					}
					if _, err := c.Write(buf); err != nil {
						return // the server closed it
					}
					time.Sleep(10 * time.Millisecond)
				}
			},
			result: "bad_handshake",
			log:    []string{"ingest connection refused", "channel=idle", "no mpeg-ts program with complete tracks within 2.5s"},
		},
		{
			name: "connect then stall",
			run: func(t *testing.T) {
				dial(t, h.addr, "idlekey")
				h.logs.Wait(t, 3*time.Second, "channel=idle", "result=stalled")
			},
			result: "stalled",
			log:    []string{"ingest connection refused", "channel=idle", "no data for 1.5s"},
		},
		{
			name: "publisher stalls",
			run: func(t *testing.T) {
				st := h.router.Add(t, "stallkey", "stall", "")
				w := ingesttest.Watch(t, st)
				ff := h.publish(t, "stallkey", "", ingesttest.Source("320x240", 30, true, 30), ingesttest.H264AAC(30, 0))
				w.Wait(t, 10*time.Second, "stalling channel publishes", func(s ingesttest.Stats) bool { return s.Video > 10 })
				ff.Pause(t)
				w.Wait(t, 4*time.Second, "session cut after the read timeout", func(s ingesttest.Stats) bool { return s.Ends == 1 })
			},
			result: "stalled",
			log:    []string{"ingest session cut", "channel=stall", "no data for 1.5s"},
		},
		{
			name: "mpeg-2 video",
			run: func(t *testing.T) {
				st := h.router.Add(t, "m2vkey", "m2v", "")
				w := ingesttest.Watch(t, st)
				refused("m2vkey", "", "-c:v", "mpeg2video", "-c:a", "aac")(t)
				if len(w.Stats().Sessions) != 0 || st.Active() {
					t.Error("refused stream got a session")
				}
			},
			result: "unsupported_codec",
			log:    []string{"ingest connection refused", "channel=m2v", "unsupported video codec MPEG-1/2 Video (supported: H.264, H.265)"},
		},
		{
			name: "mp2 audio",
			run: func(t *testing.T) {
				h.router.Add(t, "mp2key", "mp2", "")
				refused("mp2key", "", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "mp2")(t)
			},
			result: "unsupported_codec",
			log:    []string{"ingest connection refused", "channel=mp2", "unsupported audio codec MPEG-1 Audio (MP2/MP3) (supported: AAC)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.count(t, tt.result)
			lines := len(h.logs.Lines(tt.log...))
			tt.run(t)
			line := h.logs.Wait(t, 4*time.Second, tt.log...)
			if !strings.Contains(line, "result="+tt.result) || !strings.Contains(line, "role=ingest") || !strings.Contains(line, "protocol=srt") {
				t.Errorf("log line %q lacks result=%s, role or protocol", line, tt.result)
			}
			if n := len(h.logs.Lines(tt.log...)); n != lines+1 {
				t.Errorf("%d matching log lines, want exactly one more than %d", n, lines)
			}
			if got := h.count(t, tt.result); got != before+1 {
				t.Errorf("connections_total{result=%s} went from %v to %v", tt.result, before, got)
			}
			goodW.More(t, 15)
			if s := goodW.Stats(); len(s.Sessions) != 1 || s.Ends != 0 {
				t.Fatalf("good channel: %d sessions, %d ends", len(s.Sessions), s.Ends)
			}
			if idle.Active() {
				t.Error("idle channel became active")
			}
		})
	}
}

func TestShutdownEndsSessions(t *testing.T) {
	h := newHarness(t, Config{})
	st := h.router.Add(t, "k", "news", "")
	w := ingesttest.Watch(t, st)
	h.publish(t, "k", "", ingesttest.Source("320x240", 30, false, 20), ingesttest.H264AAC(30, 0))
	w.Wait(t, 10*time.Second, "session", func(s ingesttest.Stats) bool { return s.Video > 5 })
	if err := h.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	w.Wait(t, 2*time.Second, "end of session", func(s ingesttest.Stats) bool { return s.Ends == 1 })
	h.logs.Wait(t, time.Second, "publish ended", "server shutting down")
}

// dial connects an SRT caller that publishes to key and sends nothing.
func dial(t *testing.T, addr, key string) gosrt.Conn {
	t.Helper()
	conf := gosrt.DefaultConfig()
	conf.StreamId = key
	c, err := gosrt.Dial("srt", addr, conf)
	if err != nil {
		t.Fatalf("srt dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
