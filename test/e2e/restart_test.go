package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// onairCLI runs the onair binary's CLI against a server.
func onairCLI(t *testing.T, s *server, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, append(args, "--api", s.base)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Channels created through the CLI and the API survive a restart of
// `onair serve` with the same keys; stop, start and delete work.
func TestChannelLifecycleAndRestart(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)

	out, err := onairCLI(t, s, "channel", "create", "persist")
	if err != nil {
		t.Fatalf("channel create: %v\n%s", err, out)
	}
	for _, want := range []string{"rtmp://", "srt://", "/live/persist/master.m3u8", "/live/persist/manifest.mpd"} {
		if !strings.Contains(out, want) {
			t.Errorf("create output lacks %s:\n%s", want, out)
		}
	}
	apiCh := s.createChannel(t, "via-api", false)
	if out, err := onairCLI(t, s, "channel", "create", "persist"); err == nil || !strings.Contains(out, "exists") {
		t.Errorf("duplicate create: err=%v out=%q", err, out)
	}
	if out, err := onairCLI(t, s, "channel", "create", "Bad Name!"); err == nil {
		t.Errorf("invalid name accepted: %s", out)
	}
	out, err = onairCLI(t, s, "channel", "stop", "persist")
	if err != nil {
		t.Fatalf("stop: %v %s", err, out)
	}
	if ch, _ := s.getChannel(t, "persist"); ch.State != "stopped" {
		t.Fatalf("after stop: state %q", ch.State)
	}
	before, _ := s.getChannel(t, "via-api")

	s.stop()
	s2 := startServer(t, dir)
	out, err = onairCLI(t, s2, "channel", "list", "--json")
	if err != nil {
		t.Fatalf("list: %v %s", err, out)
	}
	var list struct {
		Channels []channel `json:"channels"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	if len(list.Channels) != 2 {
		t.Fatalf("after restart: %d channels, want 2:\n%s", len(list.Channels), out)
	}
	after, code := s2.getChannel(t, "via-api")
	if code != 200 || after.Ingest.StreamKey != apiCh.Ingest.StreamKey || after.Ingest.SRTPassphrase != before.Ingest.SRTPassphrase {
		t.Fatalf("via-api after restart: %d %+v", code, after.Ingest)
	}
	if ch, _ := s2.getChannel(t, "persist"); ch.State != "stopped" {
		t.Fatalf("stopped channel came back as %q", ch.State)
	}
	if out, err := onairCLI(t, s2, "channel", "start", "persist"); err != nil {
		t.Fatalf("start: %v %s", err, out)
	}
	if ch, _ := s2.getChannel(t, "persist"); ch.State != "idle" {
		t.Fatalf("after start: state %q", ch.State)
	}
	if out, err := onairCLI(t, s2, "channel", "delete", "persist"); err != nil {
		t.Fatalf("delete: %v %s", err, out)
	}
	if _, code := s2.getChannel(t, "persist"); code != 404 {
		t.Fatalf("deleted channel: %d", code)
	}
	if out, err := onairCLI(t, s2, "channel", "show", "persist"); err == nil || !strings.Contains(out, "not found") {
		t.Errorf("show deleted: err=%v out=%q", err, out)
	}
}

// Stopping a live channel cuts its publisher and refuses new ones until
// the channel is started again; its viewers get a 404 only for objects that
// never existed.
func TestStopLiveChannelCutsPublisher(t *testing.T) {
	s := startServer(t, "")
	ch := s.createChannel(t, "cut", false)
	url := fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey)
	p := publishRTMP(t, url, "320x240", 30, 0)
	waitFor(t, 30*time.Second, "live", func() bool {
		c, _ := s.getChannel(t, "cut")
		return c.State == "live"
	})
	if out, err := onairCLI(t, s, "channel", "stop", "cut"); err != nil {
		t.Fatalf("stop: %v %s", err, out)
	}
	if exited, _ := p.exited(15 * time.Second); !exited {
		t.Fatal("publisher still connected 15 s after the channel was stopped")
	}
	again := publishRTMP(t, url, "320x240", 30, 5)
	if exited, err := again.exited(15 * time.Second); !exited || err == nil {
		t.Fatalf("stopped channel accepted a publisher (exited=%v err=%v)", exited, err)
	}
	if out, err := onairCLI(t, s, "channel", "start", "cut"); err != nil {
		t.Fatalf("start: %v %s", err, out)
	}
	publishRTMP(t, url, "320x240", 30, 0)
	waitFor(t, 30*time.Second, "live again after start", func() bool {
		c, _ := s.getChannel(t, "cut")
		return c.State == "live"
	})
}
