package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A full disk: onair keeps serving the live window from memory, says what
// is wrong once with a hint, counts it, and writes everything it still
// holds once space is back.
func TestFullDiskKeepsServingAndRecovers(t *testing.T) {
	mnt := t.TempDir()
	// A real filesystem that can fill up: a 3 MiB tmpfs (needs root, as CI has).
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	filler := filepath.Join(mnt, "filler")
	// Leave ~256 KiB: enough for init segments, not for a few seconds of video.
	if err := os.WriteFile(filler, make([]byte, 3<<20-256<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "onair.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("storage: {dir: %q}\n", filepath.Join(mnt, "media"))), 0o644)
	s := startServer(t, "", "--config", cfg)
	ch := s.createChannel(t, "full", false)
	publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey), "640x360", 30, 0)

	playlist := s.base + "/live/full/source/index.m3u8"
	waitFor(t, 40*time.Second, "storage errors", func() bool {
		return counter(t, s.base, `onair_storage_errors_total\{op="put"\}`) > 0
	})
	// Viewers are not affected: the playlist advances and the newest
	// segment is served (from memory).
	before := lastSegment(t, playlist)
	waitFor(t, 15*time.Second, "playlist advancing on a full disk", func() bool { return lastSegment(t, playlist) >= before+2 })
	newest := lastSegment(t, playlist)
	if code, _, b := get(fmt.Sprintf("%s/live/full/source/%d.m4s", s.base, newest)); code != 200 || len(b) == 0 {
		t.Fatalf("newest segment on a full disk: %d", code)
	}
	logs := s.logs.String()
	if !strings.Contains(logs, "no space left on device") || !strings.Contains(logs, "hint=") {
		t.Errorf("no clear log line with a hint for the full disk:\n%s", tail(logs, 20))
	}
	if n := strings.Count(logs, "storage put failed"); n > 10 {
		t.Errorf("full disk logged %d times in a few seconds; want rate-limited", n)
	}
	if counter(t, s.base, `onair_storage_retry_queue_bytes`) == 0 {
		t.Error("nothing queued for retry while the disk is full")
	}

	// Space comes back: what was acknowledged reaches the disk.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "retry queue drained", func() bool {
		return counter(t, s.base, `onair_storage_retry_queue_bytes`) == 0
	})
	if _, err := os.Stat(filepath.Join(mnt, "media", "full", "source", fmt.Sprintf("%d.m4s", newest))); err != nil {
		t.Errorf("segment %d, produced while the disk was full, never reached the disk: %v", newest, err)
	}
}
