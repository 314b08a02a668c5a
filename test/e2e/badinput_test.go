package e2e

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lastSegment returns the newest complete segment number of a media
// playlist, or -1: a number that grows while a channel is live.
func lastSegment(t *testing.T, url string) int64 {
	t.Helper()
	code, _, b := get(url)
	if code != 200 {
		return -1
	}
	segs := completeSegments(string(b))
	if len(segs) == 0 {
		return -1
	}
	return segs[len(segs)-1]
}

// counter returns the value of a Prometheus counter line matching re.
func counter(t *testing.T, base, re string) float64 {
	t.Helper()
	_, _, b := get(base + "/metrics")
	m := regexp.MustCompile(`(?m)^` + re + ` ([0-9.e+]+)$`).FindStringSubmatch(string(b))
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// Bad publishers are refused or cut with a clear reason while another
// channel keeps serving viewers, and the server never falls over.
func TestBadInputsDoNotHarmOtherChannels(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "onair.yaml")
	if err := os.WriteFile(cfg, []byte("rtmp: {read_timeout: 2s}\nsrt: {read_timeout: 2s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", "--config", cfg)
	good := s.createChannel(t, "good", false)
	victim := s.createChannel(t, "victim", false)
	publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, good.Ingest.StreamKey), "320x240", 30, 0)
	goodPlaylist := s.base + "/live/good/160p30/index.m3u8"
	waitFor(t, 40*time.Second, "good channel live", func() bool { return lastSegment(t, goodPlaylist) >= 0 })

	// assertGoodAdvances checks the good channel keeps producing segments.
	assertGoodAdvances := func(after string) {
		t.Helper()
		before := lastSegment(t, goodPlaylist)
		waitFor(t, 15*time.Second, "good channel to advance after "+after, func() bool {
			return lastSegment(t, goodPlaylist) > before
		})
	}

	t.Run("unknown stream key", func(t *testing.T) {
		p := publishRTMP(t, fmt.Sprintf("rtmp://%s/live/no-such-key", s.rtmp), "320x240", 30, 5)
		if exited, err := p.exited(15 * time.Second); !exited || err == nil {
			t.Fatalf("publisher with an unknown key was not refused (exited=%v err=%v)", exited, err)
		}
		if counter(t, s.base, `onair_ingest_connections_total\{protocol="rtmp",result="unknown_key"\}`) < 1 {
			t.Error("refusal not counted in onair_ingest_connections_total")
		}
		if !strings.Contains(s.logs.String(), "unknown stream key") {
			t.Error("no clear log line for the unknown key")
		}
		assertGoodAdvances("an unknown key")
	})

	t.Run("second publisher on a live key", func(t *testing.T) {
		p := publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, good.Ingest.StreamKey), "320x240", 30, 5)
		if exited, err := p.exited(15 * time.Second); !exited || err == nil {
			t.Fatalf("second publisher was not refused (exited=%v err=%v)", exited, err)
		}
		if counter(t, s.base, `onair_ingest_connections_total\{protocol="rtmp",result="busy"\}`) < 1 {
			t.Error("busy refusal not counted")
		}
		assertGoodAdvances("a second publisher")
	})

	t.Run("garbage bytes on the RTMP port", func(t *testing.T) {
		c, err := net.Dial("tcp", s.rtmp)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		junk := make([]byte, 8192)
		rand.Read(junk)
		junk[0] = 0x42 // not the RTMP version byte 3
		c.Write(junk)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatal("server did not close a connection that sent garbage")
				}
				break
			}
		}
		assertGoodAdvances("garbage on the RTMP port")
	})

	t.Run("garbage datagrams on the SRT port", func(t *testing.T) {
		c, err := net.Dial("udp", s.srt)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for i := 0; i < 200; i++ {
			junk := make([]byte, 1316)
			rand.Read(junk)
			c.Write(junk)
		}
		assertGoodAdvances("garbage on the SRT port")
	})

	t.Run("wrong SRT passphrase", func(t *testing.T) {
		url := fmt.Sprintf("srt://%s?streamid=%s&passphrase=wrong-passphrase-123&pbkeylen=16&connect_timeout=3000", s.srt, victim.Ingest.SRTStreamID)
		args := append(source("320x240", 30), "-t", "5")
		args = append(args, encodeArgs(30)...)
		p := publish(t, append(args, "-f", "mpegts", url)...)
		if exited, err := p.exited(20 * time.Second); !exited || err == nil {
			t.Fatalf("publisher with a wrong passphrase was not refused (exited=%v err=%v)", exited, err)
		}
		if st, _ := s.getChannel(t, "victim"); st.State == "live" {
			t.Fatal("victim channel went live with a wrong passphrase")
		}
		assertGoodAdvances("a wrong SRT passphrase")
	})

	t.Run("publisher that stalls", func(t *testing.T) {
		p := publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, victim.Ingest.StreamKey), "320x240", 30, 0)
		waitFor(t, 20*time.Second, "victim live", func() bool {
			st, _ := s.getChannel(t, "victim")
			return st.State == "live"
		})
		// Freeze the encoder: its TCP connection stays open, no data flows.
		if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		defer p.cmd.Process.Signal(syscall.SIGCONT)
		waitFor(t, 15*time.Second, "stalled publisher cut", func() bool {
			st, _ := s.getChannel(t, "victim")
			return st.State == "idle"
		})
		if counter(t, s.base, `onair_ingest_connections_total\{protocol="rtmp",result="stalled"\}`) < 1 {
			t.Error("stall not counted")
		}
		assertGoodAdvances("a stalled publisher")
	})

	t.Run("half-open TCP connection", func(t *testing.T) {
		c, err := net.Dial("tcp", s.rtmp)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(15 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("server sent data to a client that never handshook")
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("server kept a silent connection open for 15 s")
		}
	})

	if code, _, _ := get(s.base + "/healthz"); code != 200 {
		t.Fatalf("server unhealthy after bad inputs: %d", code)
	}
}
