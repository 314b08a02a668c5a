package rtmp

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"onair/internal/ingest"
	"onair/internal/ingest/ingesttest"
)

var update = flag.Bool("update", false, "re-record testdata/publish.bin from a real ffmpeg publish")

const seedFile = "testdata/publish.bin"

// TestSeedIsACompletePublish replays the fuzz target's main seed (what
// ffmpeg sent when it published a short clip to key "fuzzkey") through the
// current connection handler: it must still start a publisher session and
// deliver frames, or fuzzing would start from a dead end. With -update it
// re-records the seed from a real ffmpeg publish first.
func TestSeedIsACompletePublish(t *testing.T) {
	if *update {
		recordSeed(t)
	}
	seed, err := os.ReadFile(seedFile)
	if err != nil {
		t.Fatalf("%v (run with -update to record it)", err)
	}
	router := ingesttest.NewRouter()
	st := router.Add(t, "fuzzkey", "fuzz", "")
	w := ingesttest.Watch(t, st)
	srv, err := New(Config{Limits: ingest.Limits{ReadTimeout: time.Second, HandshakeTimeout: time.Second}}, router, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if srv.metrics, err = ingest.NewMetrics(nil); err != nil {
		t.Fatal(err)
	}
	srvSide, cliSide := net.Pipe()
	go func() { _, _ = io.Copy(io.Discard, cliSide) }()
	go func() {
		_, _ = cliSide.Write(seed)
		_ = cliSide.Close()
	}()
	srv.handle(context.Background(), srvSide)
	w.Wait(t, 5*time.Second, "a session with frames from the seed", func(s ingesttest.Stats) bool {
		return len(s.Sessions) >= 1 && s.Video > 0
	})
}

// recordSeed records what ffmpeg sends when it publishes a short clip to
// key "fuzzkey" into seedFile, so fuzzing starts from a complete session
// (handshake, connect, publish, metadata, configs, frames).
func recordSeed(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var rec bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// Play the server: answer with our own handler over a pipe and
		// keep a copy of every byte the client sent.
		srvSide, cliSide := net.Pipe()
		router := ingesttest.NewRouter()
		router.Add(t, "fuzzkey", "fuzz", "")
		srv, err := New(Config{}, router, slog.New(slog.DiscardHandler), nil)
		if err != nil {
			t.Error(err)
			return
		}
		go func() {
			_, _ = io.Copy(cliSide, io.TeeReader(c, &rec))
			_ = cliSide.Close()
		}()
		go func() { _, _ = io.Copy(c, cliSide) }()
		srv.handle(context.Background(), srvSide)
	}()
	ff := ingesttest.Start(t, append(append(ingesttest.Source("160x120", 10, true, 0.5), ingesttest.H264AAC(5, 0)...),
		"-f", "flv", "rtmp://"+ln.Addr().String()+"/live/fuzzkey")...)
	if stderr, err := ff.Wait(t, 10*time.Second); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, stderr)
	}
	<-done
	if err := os.MkdirAll(filepath.Dir(seedFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(seedFile, rec.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d bytes", rec.Len())
}

// FuzzConn feeds arbitrary bytes to the connection handler over net.Pipe:
// it must return an error (never nil, never panic) within its deadlines.
func FuzzConn(f *testing.F) {
	seed, err := os.ReadFile(seedFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	for _, n := range []int{1, handshakeSize, handshakeSize + 300, len(seed) / 2} {
		f.Add(seed[:min(n, len(seed))])
	}
	f.Add([]byte{})
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add(append([]byte{6}, make([]byte, 3072)...)) // RTMPE with a bad digest

	router := ingesttest.NewRouter()
	router.Add(f, "fuzzkey", "fuzz", "")
	m, err := ingest.NewMetrics(nil)
	if err != nil {
		f.Fatal(err)
	}
	srv, err := New(Config{Limits: ingest.Limits{ReadTimeout: 200 * time.Millisecond, HandshakeTimeout: 200 * time.Millisecond}}, router, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		f.Fatal(err)
	}
	srv.metrics = m
	f.Fuzz(func(t *testing.T, data []byte) {
		srvSide, cliSide := net.Pipe()
		go func() { _, _ = io.Copy(io.Discard, cliSide) }()
		go func() {
			_, _ = cliSide.Write(data)
			_ = cliSide.Close()
		}()
		c := newConn(srv, srvSide)
		errc := make(chan error, 1)
		go func() { errc <- c.run(context.Background()) }()
		select {
		case err := <-errc:
			if err == nil {
				t.Fatal("handler returned nil")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("handler still running after 5 s")
		}
		_ = srvSide.Close()
		ingest.Finish(srv.log, srv.metrics, ingest.Conn{Protocol: protocol, Remote: c.remote, Channel: c.channel, Session: c.sess}, nil)
	})
}

// TestConnReplaysRecordedPublish drives the handler with the recorded
// ffmpeg session: it publishes, and ends as a normal disconnect.
func TestConnReplaysRecordedPublish(t *testing.T) {
	seed, err := os.ReadFile(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	router := ingesttest.NewRouter()
	st := router.Add(t, "fuzzkey", "fuzz", "")
	w := ingesttest.Watch(t, st)
	srv, err := New(Config{Limits: ingest.Limits{ReadTimeout: time.Second, HandshakeTimeout: time.Second}}, router, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if srv.metrics, err = ingest.NewMetrics(nil); err != nil {
		t.Fatal(err)
	}
	srvSide, cliSide := net.Pipe()
	go func() { _, _ = io.Copy(io.Discard, cliSide) }()
	go func() {
		_, _ = cliSide.Write(seed)
		_ = cliSide.Close()
	}()
	c := newConn(srv, srvSide)
	err = c.run(context.Background())
	if !errors.Is(err, ingest.ErrEnded) || c.sess == nil || !c.sess.Published() {
		t.Fatalf("run = %v, want a published session that ended normally", err)
	}
	c.sess.Close()
	s := w.Wait(t, time.Second, "end", func(s ingesttest.Stats) bool { return s.Ends == 1 })
	if v := s.Sessions[0].Video; v.Width != 160 || v.Height != 120 || v.FPS != 10 || s.Video == 0 || s.Audio == 0 {
		t.Fatalf("session %+v, %d video and %d audio units", v, s.Video, s.Audio)
	}
}
