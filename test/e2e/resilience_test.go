package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// transcoderStatus reads the channel's transcoder block from the API.
func transcoderStatus(t *testing.T, s *server, name string) (pid, restarts int) {
	t.Helper()
	_, _, b := get(s.base + "/api/v1/channels/" + name)
	var c struct {
		Transcoder struct {
			PID      int `json:"pid"`
			Restarts int `json:"restarts"`
		} `json:"transcoder"`
	}
	_ = json.Unmarshal(b, &c)
	return c.Transcoder.PID, c.Transcoder.Restarts
}

// A transcoder ffmpeg that dies mid-stream is restarted; the playlists
// keep advancing and the API says what happened.
func TestDeadTranscoderIsRestarted(t *testing.T) {
	s := startServer(t, "")
	ch := s.createChannel(t, "phoenix", false)
	publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey), "320x240", 30, 0)
	playlist := s.base + "/live/phoenix/160p30/index.m3u8"
	waitFor(t, 40*time.Second, "channel live", func() bool { return lastSegment(t, playlist) >= 1 })
	pid, _ := transcoderStatus(t, s, "phoenix")
	if pid <= 0 {
		t.Fatal("API shows no transcoder pid")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill ffmpeg %d: %v", pid, err)
	}
	killedAt := lastSegment(t, playlist)
	waitFor(t, 30*time.Second, "transcoder restarted", func() bool {
		newPID, restarts := transcoderStatus(t, s, "phoenix")
		return restarts >= 1 && newPID > 0 && newPID != pid
	})
	waitFor(t, 30*time.Second, "ladder advancing after the restart", func() bool {
		return lastSegment(t, playlist) >= killedAt+2
	})
	// Passthrough renditions never depended on ffmpeg.
	if lastSegment(t, s.base+"/live/phoenix/source/index.m3u8") < killedAt+2 {
		t.Error("source rendition did not keep advancing")
	}
	decode(t, playlist)
}

// After a restart of onair, a channel continues on the same clock:
// segment numbers go on from where wall-clock time has reached, never back,
// and no stored object is overwritten with different bytes.
func TestRestartKeepsChannelClock(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	ch := s.createChannel(t, "clock", false)
	url := fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey)
	pub := publishRTMP(t, url, "320x240", 30, 0)
	playlist := s.base + "/live/clock/160p30/index.m3u8"
	waitFor(t, 40*time.Second, "first segments", func() bool { return lastSegment(t, playlist) >= 2 })
	_, _, init1 := get(s.base + "/live/clock/160p30/init.mp4")
	_, _, seg1 := get(s.base + "/live/clock/160p30/1.m4s")
	last := lastSegment(t, playlist)
	pub.stop()
	s.stop()

	s2 := startServer(t, dir)
	// Same ports are gone; publish to the new server's ingest.
	publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s2.rtmp, ch.Ingest.StreamKey), "320x240", 30, 0)
	playlist2 := s2.base + "/live/clock/160p30/index.m3u8"
	waitFor(t, 40*time.Second, "segments after restart", func() bool { return lastSegment(t, playlist2) > last+1 })
	code, _, b := get(playlist2)
	if code != 200 {
		t.Fatal(code)
	}
	for _, n := range completeSegments(string(b)) {
		if n <= last {
			t.Fatalf("segment %d listed after restart; the last one before was %d", n, last)
		}
	}
	// Objects written before the restart are unchanged on disk.
	for name, want := range map[string][]byte{"init.mp4": init1, "1.m4s": seg1} {
		got, err := os.ReadFile(filepath.Join(dir, "media", "clock", "160p30", name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(got) != string(want) {
			t.Errorf("%s was overwritten after the restart", name)
		}
	}
}

// selfSigned writes a certificate and key for 127.0.0.1.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "onair test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// RTMPS: with a certificate configured, an encoder can publish over TLS.
func TestRTMPSPublish(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp"))
	cfg := filepath.Join(dir, "onair.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("rtmp: {tls_listen: %q, cert_file: %q, key_file: %q}\n", tlsAddr, cert, key)), 0o644)
	s := startServer(t, "", "--config", cfg)
	ch := s.createChannel(t, "secure", false)
	publishRTMP(t, fmt.Sprintf("rtmps://%s/live/%s", tlsAddr, ch.Ingest.StreamKey), "320x240", 30, 0)
	playlist := s.base + "/live/secure/160p30/index.m3u8"
	waitFor(t, 40*time.Second, "RTMPS channel live", func() bool { return lastSegment(t, playlist) >= 1 })
	decode(t, playlist)
}
