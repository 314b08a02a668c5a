package e2e

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// A real encoder publishes over RTMP; the ladder, HLS and DASH come out
// keyframe-aligned on the channel clock and decode with ffmpeg/ffprobe.
func TestRTMPPublishServesAlignedLadder(t *testing.T) {
	s := startServer(t, "")
	ch := s.createChannel(t, "rtmp-ladder", false)
	if !strings.HasPrefix(ch.Ingest.RTMPURL, "rtmp://") || ch.Ingest.StreamKey == "" || ch.Ingest.SRTPassphrase == "" {
		t.Fatalf("ingest URLs missing: %+v", ch.Ingest)
	}
	publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey), "640x360", 30, 0)

	var master string
	waitFor(t, 30*time.Second, "multivariant playlist with the fitted ladder", func() bool {
		code, _, b := get(ch.Playback.HLS)
		master = string(b)
		return code == 200 && len(variants(master)) == 4
	})
	v := variants(master)
	want := map[string]string{"source": "640x360", "360p30": "640x360", "240p30": "426x240", "160p30": "284x160"}
	for r, res := range want {
		if v[r] != res {
			t.Errorf("rendition %s: RESOLUTION %q, want %q (multivariant:\n%s)", r, v[r], res, master)
		}
	}
	for _, attr := range []string{"BANDWIDTH=", "AVERAGE-BANDWIDTH=", `CODECS="avc1.`, "mp4a.40.2", "FRAME-RATE=30.000", `AUDIO="aud"`, "TYPE=AUDIO"} {
		if !strings.Contains(master, attr) {
			t.Errorf("multivariant playlist lacks %s", attr)
		}
	}

	video := []string{"source", "360p30", "240p30", "160p30"}
	all := append(slices.Clone(video), "audio")
	// Segment 0 is the first; 3 is well inside steady state.
	waitSegment(t, s.base, "rtmp-ladder", all, 3, 40*time.Second)
	for _, n := range []int64{1, 2, 3} {
		checkAligned(t, s.base, "rtmp-ladder", video, n, 30)
	}

	// ffprobe reads the multivariant playlist and the MPD over HTTP and
	// finds every rendition; ffmpeg decodes every one without an error.
	hls := probeStreams(t, ch.Playback.HLS)
	dash := probeStreams(t, ch.Playback.DASH)
	for _, wantStream := range []string{"h264,640,360", "h264,426,240", "h264,284,160", "aac"} {
		if !slices.Contains(hls, wantStream) {
			t.Errorf("ffprobe HLS streams %v lack %s", hls, wantStream)
		}
		if !slices.Contains(dash, wantStream) {
			t.Errorf("ffprobe DASH streams %v lack %s", dash, wantStream)
		}
	}
	for _, r := range all {
		decode(t, fmt.Sprintf("%s/live/rtmp-ladder/%s/index.m3u8", s.base, r))
	}
	decode(t, ch.Playback.DASH, "-map", "0")

	// Cache-Control per DESIGN.md.
	checks := []struct{ path, want string }{
		{"/live/rtmp-ladder/master.m3u8", "public, max-age=1"},
		{"/live/rtmp-ladder/240p30/index.m3u8", "public, max-age=1"},
		{"/live/rtmp-ladder/manifest.mpd", "public, max-age=1"},
		{"/live/rtmp-ladder/240p30/init.mp4", "public, max-age=12"},
		{"/live/rtmp-ladder/240p30/2.m4s", "public, max-age=12"},
		{"/live/rtmp-ladder/240p30/2.1.m4s", "public, max-age=12"},
	}
	for _, c := range checks {
		code, h, _ := get(s.base + c.path)
		if code != 200 || h.Get("Cache-Control") != c.want {
			t.Errorf("GET %s: %d Cache-Control %q, want 200 %q", c.path, code, h.Get("Cache-Control"), c.want)
		}
	}
	// A segment far in the future: a quick 404 that caches for 1 s at most.
	start := time.Now()
	code, h, _ := get(s.base + "/live/rtmp-ladder/240p30/999999.m4s")
	if code != 404 || h.Get("Cache-Control") != "public, max-age=1" || time.Since(start) > 2*time.Second {
		t.Errorf("future segment: %d %q after %v", code, h.Get("Cache-Control"), time.Since(start))
	}

	// Input health is visible in the API and in /metrics.
	got, _ := s.getChannel(t, "rtmp-ladder")
	if got.State != "live" {
		t.Errorf("channel state %q, want live", got.State)
	}
	_, _, metrics := get(s.base + "/metrics")
	for _, m := range []string{"onair_ingest_connections_total", "onair_packager_part_latency_seconds", "onair_manifest_age_seconds", "onair_transcode_speed", "onair_input_bitrate_bits_per_second"} {
		if !strings.Contains(string(metrics), m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}

// SRT ingest with a passphrase produces the same playable ladder.
func TestSRTPublish(t *testing.T) {
	s := startServer(t, "")
	ch := s.createChannel(t, "srt-in", false)
	u, err := url.Parse(ch.Ingest.SRTURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	srtURL := fmt.Sprintf("srt://%s?streamid=%s&passphrase=%s&pbkeylen=16&latency=120000", s.srt, url.QueryEscape(q.Get("streamid")), url.QueryEscape(q.Get("passphrase")))
	args := append(source("320x240", 30), encodeArgs(30)...)
	publish(t, append(args, "-f", "mpegts", srtURL)...)

	waitFor(t, 30*time.Second, "SRT channel's playlist", func() bool {
		code, _, b := get(ch.Playback.HLS)
		return code == 200 && len(variants(string(b))) == 3 // source, 240p30, 160p30
	})
	video := []string{"source", "240p30", "160p30"}
	waitSegment(t, s.base, "srt-in", append(slices.Clone(video), "audio"), 2, 40*time.Second)
	checkAligned(t, s.base, "srt-in", video[1:], 2, 30)
	decode(t, ch.Playback.HLS, "-map", "0")
	got, _ := s.getChannel(t, "srt-in")
	if got.State != "live" {
		t.Errorf("state %q", got.State)
	}
}
