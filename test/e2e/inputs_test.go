package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// activeInput returns the channel's active input per the API.
func activeInput(t *testing.T, s *server, name string) string {
	ch, code := s.getChannel(t, name)
	if code != 200 || ch.Inputs == nil {
		return ""
	}
	return ch.Inputs.Active
}

// checkContinuous fails unless the playlist's complete segments are
// consecutive and none is a gap.
func checkContinuous(t *testing.T, playlist string) []int64 {
	t.Helper()
	code, _, b := get(playlist)
	if code != 200 {
		t.Fatalf("%s: %d", playlist, code)
	}
	segs := completeSegments(string(b))
	for i := 1; i < len(segs); i++ {
		if segs[i] != segs[i-1]+1 {
			t.Errorf("%s: segment %d follows %d", playlist, segs[i], segs[i-1])
		}
	}
	if strings.Contains(string(b), "#EXT-X-GAP") {
		t.Errorf("%s has gaps:\n%s", playlist, b)
	}
	return segs
}

// The same source goes to the primary and the backup input; the primary
// publisher dies while hls.js plays: the backup carries on with no gap in
// the segment numbers and segments still on the grid, and the channel
// goes back to the primary once it has delivered for the clear time.
func TestInputFailover(t *testing.T) {
	t.Setenv("ONAIR_INPUT_CLEAR_AFTER", "4s")
	s := startServer(t, "")
	ch := s.createChannel(t, "fo", false)
	if ch.BackupIngest.StreamKey == "" || ch.BackupIngest.StreamKey == ch.Ingest.StreamKey {
		t.Fatalf("backup ingest %+v", ch.BackupIngest)
	}
	primaryURL := fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey)
	backupURL := fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.BackupIngest.StreamKey)
	prim := publishRTMP(t, primaryURL, "320x240", 30, 0)
	publishRTMP(t, backupURL, "320x240", 30, 0)
	playlist := s.base + "/live/fo/160p30/index.m3u8"
	waitFor(t, 40*time.Second, "segments", func() bool { return lastSegment(t, playlist) >= 2 })
	if a := activeInput(t, s, "fo"); a != "primary" {
		t.Fatalf("active input %q, want primary", a)
	}

	page := testPage(t)
	results := make(chan error, 1)
	var res playResult
	go func() {
		var err error
		res, err = runPlayer(page+"/?src="+url.QueryEscape(s.base+"/live/fo/master.m3u8"), 40)
		results <- err
	}()
	time.Sleep(12 * time.Second)
	before := lastSegment(t, playlist)
	_ = prim.cmd.Process.Kill() // the primary encoder dies
	waitFor(t, 10*time.Second, "failover to the backup", func() bool { return activeInput(t, s, "fo") == "backup" })
	waitFor(t, 20*time.Second, "segments after the switch", func() bool { return lastSegment(t, playlist) >= before+4 })
	segs := checkContinuous(t, playlist)
	// Transcoded segments still start on the grid, one frame at most off.
	for _, n := range segs[len(segs)-4:] {
		checkAligned(t, s.base, "fo", []string{"160p30", "240p30"}, n, 30)
	}

	publishRTMP(t, primaryURL, "320x240", 30, 0)
	waitFor(t, 20*time.Second, "switch back to the primary", func() bool { return activeInput(t, s, "fo") == "primary" })
	if err := <-results; err != nil {
		t.Fatal(err)
	}
	t.Logf("player: ok=%v rate=%.2f stalls=%d max stall %.0f ms, errors %v", res.OK, res.Rate, res.Stalls, res.MaxStallMS, res.Errors)
	if !res.OK || res.Rate < 0.85 {
		t.Errorf("playback across the switches: ok=%v (%s), rate %.2f", res.OK, res.Reason, res.Rate)
	}
	for _, e := range res.Errors {
		if msg, _ := e.(string); strings.Contains(msg, "(fatal)") {
			t.Errorf("fatal player error: %.300s", msg)
		}
	}
	checkContinuous(t, playlist)
	decode(t, playlist)

	var events []struct{ Kind, Reason string }
	_, _, b := get(s.base + "/api/v1/events?channel=fo")
	if err := json.Unmarshal(b, &events); err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, e := range events {
		if e.Kind == "input.switch" {
			reasons = append(reasons, e.Reason)
		}
	}
	t.Logf("switch events, newest first: %q", reasons)
	if len(reasons) < 3 || !strings.Contains(reasons[0], "primary delivering again") ||
		!(strings.Contains(reasons[1], "primary input closed") || strings.Contains(reasons[1], "primary input lost")) {
		t.Errorf("switch events %q: want the failover and the switch back with their reasons", reasons)
	}
}

// Both inputs gone: every rendition keeps advancing with slate segments;
// the publisher returns and live video follows in the same player.
func TestSlateWhileBothInputsAreLost(t *testing.T) {
	s := startServer(t, "")
	ch := s.createChannel(t, "sl", false)
	rtmp := fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey)
	pub := publishRTMP(t, rtmp, "320x240", 30, 0)
	renditions := []string{"source", "240p30", "160p30", "audio"}
	waitSegment(t, s.base, "sl", []string{"160p30"}, 2, 40*time.Second)

	page := testPage(t)
	results := make(chan error, 1)
	var res playResult
	go func() {
		var err error
		res, err = runPlayer(page+"/?src="+url.QueryEscape(s.base+"/live/sl/master.m3u8"), 45)
		results <- err
	}()
	time.Sleep(12 * time.Second)
	_ = pub.cmd.Process.Kill()
	waitFor(t, 15*time.Second, "the slate", func() bool { return activeInput(t, s, "sl") == "slate" })
	start := map[string]int64{}
	for _, r := range renditions {
		start[r] = lastSegment(t, s.base+"/live/sl/"+r+"/index.m3u8")
	}
	time.Sleep(9 * time.Second)
	for _, r := range renditions {
		if now := lastSegment(t, s.base+"/live/sl/"+r+"/index.m3u8"); now < start[r]+3 {
			t.Errorf("%s: segments %d -> %d over 9 s of slate, want 3 or more", r, start[r], now)
		}
	}
	if a := activeInput(t, s, "sl"); a != "slate" {
		t.Errorf("active input %q during the outage, want slate", a)
	}
	publishRTMP(t, rtmp, "320x240", 30, 0)
	waitFor(t, 15*time.Second, "live again", func() bool { return activeInput(t, s, "sl") == "primary" })
	if err := <-results; err != nil {
		t.Fatal(err)
	}
	t.Logf("player: ok=%v rate=%.2f stalls=%d max stall %.0f ms, errors %v", res.OK, res.Rate, res.Stalls, res.MaxStallMS, res.Errors)
	if !res.OK || res.Rate < 0.8 {
		t.Errorf("playback across the slate: ok=%v (%s), rate %.2f", res.OK, res.Reason, res.Rate)
	}
	for _, e := range res.Errors {
		if msg, _ := e.(string); strings.Contains(msg, "(fatal)") {
			t.Errorf("fatal player error: %.300s", msg)
		}
	}
}

// The primary keeps publishing but its picture turns black and its sound
// silent: the channel switches to the backup and says why (the black
// verdict comes first; internal/detect's tests cover silence and freezes
// on their own).
func TestBlackAndSilentPrimaryFailsOver(t *testing.T) {
	t.Setenv("ONAIR_INPUT_BLACK_AFTER", "2s")
	t.Setenv("ONAIR_INPUT_SILENT_AFTER", "2s")
	s := startServer(t, "")
	ch := s.createChannel(t, "bk", false)
	args := append(source("320x240", 30),
		"-vf", "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='gte(t,10)'",
		"-af", "volume=volume=0:enable='gte(t,10)'")
	args = append(args, encodeArgs(30)...)
	publish(t, append(args, "-f", "flv", fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey))...)
	publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.BackupIngest.StreamKey), "320x240", 30, 0)
	waitFor(t, 30*time.Second, "the primary active", func() bool { return activeInput(t, s, "bk") == "primary" })
	waitFor(t, 30*time.Second, "failover to the backup", func() bool { return activeInput(t, s, "bk") == "backup" })
	var events []struct{ Kind, Reason string }
	waitFor(t, 5*time.Second, "the switch event", func() bool {
		_, _, b := get(s.base + "/api/v1/events?channel=bk")
		return json.Unmarshal(b, &events) == nil && len(events) > 0 && strings.Contains(events[0].Reason, "black")
	})
	if events[0].Kind != "input.switch" || !strings.Contains(events[0].Reason, "primary input black for 2s") {
		t.Fatalf("newest event %+v, want a switch because the primary is black", events)
	}
	t.Logf("switch reason: %s", events[0].Reason)
}
