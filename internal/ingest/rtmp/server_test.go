package rtmp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	mathrand "math/rand/v2"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib/pkg/handshake"
	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/ingest"
	"onair/internal/ingest/ingesttest"
	"onair/internal/media"
)

type harness struct {
	addr   string
	tls    bool
	reg    *prometheus.Registry
	logs   *ingesttest.Logs
	router *ingesttest.Router
	stop   func() error // cancels Serve and returns what it returned
}

func newHarness(t *testing.T, cfg Config, useTLS bool) *harness {
	t.Helper()
	h := &harness{tls: useTLS, reg: prometheus.NewRegistry(), router: ingesttest.NewRouter()}
	logs, log := ingesttest.NewLogs()
	h.logs = logs
	srv, err := New(cfg, h.router, log, h.reg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = ln.Addr().String()
	if useTLS {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}})
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx, ln) }()
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

func (h *harness) url(key string) string {
	scheme := "rtmp"
	if h.tls {
		scheme = "rtmps"
	}
	return scheme + "://" + h.addr + "/live/" + key
}

func (h *harness) count(t *testing.T, result string) float64 {
	t.Helper()
	return ingesttest.Value(t, h.reg, "onair_ingest_connections_total", map[string]string{"protocol": "rtmp", "result": result})
}

// publish starts ffmpeg pushing a test clip to key.
func (h *harness) publish(t *testing.T, key string, src, enc []string) *ingesttest.FFmpeg {
	t.Helper()
	args := append(append(append([]string{}, src...), enc...), "-f", "flv", h.url(key))
	return ingesttest.Start(t, args...)
}

func TestPublish(t *testing.T) {
	tests := []struct {
		name    string
		tls     bool
		key     string // as the broadcaster types it
		size    string
		fps     int
		bframes int
		w, h    int
	}{
		{name: "h264 aac", key: "k1", size: "320x240", fps: 30, w: 320, h: 240},
		{name: "b-frames and key with query", key: "k1?token=abc", size: "640x360", fps: 25, bframes: 2, w: 640, h: 360},
		{name: "rtmps", tls: true, key: "k1", size: "320x240", fps: 30, w: 320, h: 240},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{}, tt.tls)
			st := h.router.Add(t, "k1", "news", "")
			w := ingesttest.Watch(t, st)
			ff := h.publish(t, tt.key, ingesttest.Source(tt.size, tt.fps, true, 3), ingesttest.H264AAC(tt.fps, tt.bframes))

			s := w.Wait(t, 10*time.Second, "session", func(s ingesttest.Stats) bool { return len(s.Sessions) > 0 })
			sess := s.Sessions[0]
			v, a := sess.Video, sess.Audio
			if v.Codec != media.CodecH264 || v.Width != tt.w || v.Height != tt.h || v.FPS != float64(tt.fps) || len(v.SPS) == 0 || len(v.PPS) == 0 {
				t.Errorf("video track %s %dx%d %v fps, want h264 %dx%d %d fps with SPS/PPS", v.Codec, v.Width, v.Height, v.FPS, tt.w, tt.h, tt.fps)
			}
			if a == nil || a.Codec != media.CodecAAC || a.SampleRate != 48000 || a.Channels != 1 || len(a.AudioConfig) == 0 {
				t.Errorf("audio track %+v, want aac 48000 Hz mono", a)
			}
			if !strings.HasPrefix(sess.Source, "rtmp 127.0.0.1:") {
				t.Errorf("source %q", sess.Source)
			}
			if stderr, err := ff.Wait(t, 15*time.Second); err != nil {
				t.Fatalf("ffmpeg: %v: %s", err, stderr)
			}
			s = w.Wait(t, 5*time.Second, "end of session", func(s ingesttest.Stats) bool { return s.Ends == 1 })
			// 3 s of media: most of 3*fps frames, a keyframe per second,
			// 48000/1024 AAC frames per second.
			if s.Video < 2*tt.fps || s.Key < 2 || s.Audio < 90 {
				t.Errorf("saw %d video units (%d keyframes), %d audio units", s.Video, s.Key, s.Audio)
			}
			h.logs.Wait(t, 2*time.Second, "publish ended", "channel=news")
			if got := h.count(t, "accepted"); got != 1 {
				t.Errorf("accepted = %v", got)
			}
			if got := ingesttest.Value(t, h.reg, "onair_ingest_active_sessions", map[string]string{"protocol": "rtmp"}); got != 0 {
				t.Errorf("active sessions after the end = %v", got)
			}
			if got := ingesttest.Value(t, h.reg, "onair_ingest_bytes_total", map[string]string{"protocol": "rtmp", "channel": "news"}); got < 10_000 {
				t.Errorf("bytes = %v", got)
			}
		})
	}
}

// TestRefusals runs every bad input against one server while another
// channel publishes, and checks each is refused once, clearly, without
// touching that channel.
func TestRefusals(t *testing.T) {
	h := newHarness(t, Config{Limits: ingest.Limits{ReadTimeout: 1500 * time.Millisecond, HandshakeTimeout: time.Second}}, false)
	good := h.router.Add(t, "goodkey", "good", "")
	idle := h.router.Add(t, "idlekey", "idle", "")
	goodW := ingesttest.Watch(t, good)
	h.publish(t, "goodkey", ingesttest.Source("320x240", 30, true, 60), ingesttest.H264AAC(30, 0))
	goodW.Wait(t, 10*time.Second, "good channel session", func(s ingesttest.Stats) bool { return len(s.Sessions) == 1 && s.Video > 10 })

	badCodec := func(key string, enc ...string) func(t *testing.T) {
		return func(t *testing.T) {
			st := h.router.Add(t, key, key, "")
			w := ingesttest.Watch(t, st)
			ff := h.publish(t, key, ingesttest.Source("320x240", 30, true, 5), enc)
			if _, err := ff.Wait(t, 10*time.Second); err == nil {
				t.Error("ffmpeg succeeded")
			}
			if s := w.Stats(); len(s.Sessions) != 0 || st.Active() {
				t.Errorf("refused stream got %d sessions", len(s.Sessions))
			}
		}
	}
	tests := []struct {
		name   string
		run    func(t *testing.T)
		result string
		log    []string // what the one log line says
	}{
		{
			name: "unknown key",
			run: func(t *testing.T) {
				ff := h.publish(t, "nope", ingesttest.Source("320x240", 30, true, 2), ingesttest.H264AAC(30, 0))
				if _, err := ff.Wait(t, 10*time.Second); err == nil {
					t.Error("ffmpeg succeeded")
				}
			},
			result: "unknown_key",
			log:    []string{"ingest connection refused", "unknown stream key", "remote=127.0.0.1:"},
		},
		{
			name: "second publisher on an active key",
			run: func(t *testing.T) {
				ff := h.publish(t, "goodkey", ingesttest.Source("320x240", 30, true, 2), ingesttest.H264AAC(30, 0))
				if _, err := ff.Wait(t, 10*time.Second); err == nil {
					t.Error("ffmpeg succeeded")
				}
			},
			result: "busy",
			log:    []string{"ingest connection refused", "channel=good", "already has an active publisher"},
		},
		{
			name: "garbage bytes",
			run: func(t *testing.T) {
				garbage := make([]byte, 4096)
				rng := mathrand.New(mathrand.NewPCG(1, 2))
				for i := range garbage {
					garbage[i] = byte(rng.Uint32())
				}
				garbage[0] = 'G' // not an RTMP version byte
				expectClosed(t, h.addr, garbage, time.Second)
			},
			result: "bad_handshake",
			log:    []string{"ingest connection refused", "invalid rtmp version"},
		},
		{
			name:   "connect then stall",
			run:    func(t *testing.T) { expectClosed(t, h.addr, nil, 2*time.Second) },
			result: "stalled",
			log:    []string{"rtmp handshake not completed within 1s"},
		},
		{
			name: "handshake then stall",
			run: func(t *testing.T) {
				c, err := net.Dial("tcp", h.addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if _, _, err := handshake.DoClient(c, false, false); err != nil {
					t.Fatalf("handshake: %v", err)
				}
				expectEOF(t, c, 2*time.Second)
			},
			result: "stalled",
			log:    []string{"rtmp connect not completed within 1s"},
		},
		{
			name: "publisher stalls",
			run: func(t *testing.T) {
				st := h.router.Add(t, "stallkey", "stall", "")
				w := ingesttest.Watch(t, st)
				ff := h.publish(t, "stallkey", ingesttest.Source("320x240", 30, true, 30), ingesttest.H264AAC(30, 0))
				w.Wait(t, 10*time.Second, "stalling channel publishes", func(s ingesttest.Stats) bool { return s.Video > 10 })
				ff.Pause(t)
				w.Wait(t, 4*time.Second, "session cut after the read timeout", func(s ingesttest.Stats) bool { return s.Ends == 1 })
			},
			result: "stalled",
			log:    []string{"ingest session cut", "channel=stall", "no data for 1.5s"},
		},
		{
			name:   "mp3 audio",
			run:    badCodec("mp3key", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "libmp3lame", "-ar", "44100"),
			result: "unsupported_codec",
			log:    []string{"ingest connection refused", "channel=mp3key", "unsupported audio codec MP3 (supported: AAC)"},
		},
		{
			name:   "flv1 video",
			run:    badCodec("flv1key", "-c:v", "flv", "-c:a", "aac"),
			result: "unsupported_codec",
			log:    []string{"ingest connection refused", "channel=flv1key", "unsupported video codec Sorenson H.263 (flv1) (supported: H.264, H.265)"},
		},
		{
			name: "play request",
			run: func(t *testing.T) {
				ff := ingesttest.Start(t, "-i", h.url("goodkey"), "-t", "1", "-f", "null", "-")
				if _, err := ff.Wait(t, 10*time.Second); err == nil {
					t.Error("ffmpeg play succeeded")
				}
			},
			result: "error",
			log:    []string{"ingest connection refused", "play request refused"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.count(t, tt.result)
			lines := len(h.logs.Lines(tt.log...))
			tt.run(t)
			line := h.logs.Wait(t, 3*time.Second, tt.log...)
			if !strings.Contains(line, "result="+tt.result) || !strings.Contains(line, "role=ingest") || !strings.Contains(line, "protocol=rtmp") {
				t.Errorf("log line %q lacks result=%s, role or protocol", line, tt.result)
			}
			if n := len(h.logs.Lines(tt.log...)); n != lines+1 {
				t.Errorf("%d matching log lines, want exactly one more than %d", n, lines)
			}
			if got := h.count(t, tt.result); got != before+1 {
				t.Errorf("connections_total{result=%s} went from %v to %v", tt.result, before, got)
			}
			// The other channel never noticed.
			goodW.More(t, 15)
			if s := goodW.Stats(); len(s.Sessions) != 1 || s.Ends != 0 {
				t.Fatalf("good channel: %d sessions, %d ends", len(s.Sessions), s.Ends)
			}
			if idle.Active() || idle.Health().Bytes != 0 {
				t.Error("idle channel was touched")
			}
		})
	}
}

func TestShutdownEndsSessions(t *testing.T) {
	h := newHarness(t, Config{}, false)
	st := h.router.Add(t, "k", "news", "")
	w := ingesttest.Watch(t, st)
	ff := h.publish(t, "k", ingesttest.Source("320x240", 30, false, 20), ingesttest.H264AAC(30, 0))
	w.Wait(t, 10*time.Second, "session", func(s ingesttest.Stats) bool { return s.Video > 5 })
	if err := h.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	w.Wait(t, 2*time.Second, "end of session", func(s ingesttest.Stats) bool { return s.Ends == 1 })
	if _, err := ff.Wait(t, 10*time.Second); err == nil {
		t.Error("ffmpeg did not notice the server going away")
	}
	h.logs.Wait(t, time.Second, "publish ended", "server shutting down")
}

// expectClosed dials addr, writes data and expects the server to close the
// connection within d.
func expectClosed(t *testing.T, addr string, data []byte, d time.Duration) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if len(data) > 0 {
		if _, err := c.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	expectEOF(t, c, d)
}

// expectEOF expects the server to close c within d.
func expectEOF(t *testing.T, c net.Conn, d time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("server did not close the connection within %v: %v", d, err)
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestMaxConns(t *testing.T) {
	h := newHarness(t, Config{Limits: ingest.Limits{MaxConns: 1, HandshakeTimeout: 3 * time.Second}}, false)
	first, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	// The first connection is being served (it sits in its handshake); a
	// second one is closed at once.
	expectClosed(t, h.addr, nil, time.Second)
	h.logs.Wait(t, time.Second, "ingest connection refused", "too many connections (max 1)", "result=error")
}

// TestServeTwoListeners runs one server on a plain and a TLS listener at
// once, as the app does for RTMP and RTMPS.
func TestServeTwoListeners(t *testing.T) {
	router := ingesttest.NewRouter()
	plainSt := router.Add(t, "plainkey", "plain", "")
	tlsSt := router.Add(t, "tlskey", "secure", "")
	_, log := ingesttest.NewLogs()
	srv, err := New(Config{}, router, log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	plainLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rawTLS, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsLn := tls.NewListener(rawTLS, &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ctx, plainLn) }()
	go func() { errc <- srv.Serve(ctx, tlsLn) }()

	plainW, tlsW := ingesttest.Watch(t, plainSt), ingesttest.Watch(t, tlsSt)
	src, enc := ingesttest.Source("320x240", 30, true, 20), ingesttest.H264AAC(30, 0)
	ingesttest.Start(t, append(append(append([]string{}, src...), enc...), "-f", "flv", "rtmp://"+plainLn.Addr().String()+"/live/plainkey")...)
	ingesttest.Start(t, append(append(append([]string{}, src...), enc...), "-f", "flv", "rtmps://"+rawTLS.Addr().String()+"/live/tlskey")...)
	plainW.Wait(t, 10*time.Second, "rtmp session", func(s ingesttest.Stats) bool { return s.Video > 10 })
	tlsW.Wait(t, 10*time.Second, "rtmps session", func(s ingesttest.Stats) bool { return s.Video > 10 })

	cancel()
	for range 2 {
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return after cancel")
		}
	}
	plainW.Wait(t, 2*time.Second, "rtmp end", func(s ingesttest.Stats) bool { return s.Ends == 1 })
	tlsW.Wait(t, 2*time.Second, "rtmps end", func(s ingesttest.Stats) bool { return s.Ends == 1 })
}
