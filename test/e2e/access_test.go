package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"
)

// token asks the API for a playback token of channel name.
func (s *server) token(t *testing.T, name, body string) (tok string, hls string) {
	t.Helper()
	code, b := s.api(t, "POST", "/api/v1/channels/"+name+"/tokens", body)
	if code != 201 {
		t.Fatalf("token for %s: %d %s", name, code, b)
	}
	var res struct {
		Token    string `json:"token"`
		Playback struct {
			HLS string `json:"hls"`
		} `json:"playback"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	return res.Token, res.Playback.HLS
}

// A channel with "access": "signed" plays only with a token from the API:
// ffmpeg reads the whole HLS ladder from the token URL (the edge sets the
// token as a cookie, which ffmpeg's HLS demuxer carries to the media
// playlists and segments); without a token, or with an expired, tampered,
// other channel's or other address's token, every playback path is 403
// and the refusal is counted by reason. A public channel is unaffected.
func TestSignedPlayback(t *testing.T) {
	s := startServer(t, "")
	code, b := s.api(t, "POST", "/api/v1/channels", `{"name":"paid","access":"signed"}`)
	if code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	var ch channel
	if err := json.Unmarshal(b, &ch); err != nil {
		t.Fatal(err)
	}
	free := s.createChannel(t, "free", false)
	publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey), "320x240", 30, 0)
	publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, free.Ingest.StreamKey), "320x240", 30, 0)

	tok, hls := s.token(t, "paid", `{"ttl":"10m"}`)
	if !strings.HasSuffix(hls, "/live/paid/master.m3u8?onair_token="+tok) {
		t.Fatalf("playback URL %q", hls)
	}
	media := s.base + "/live/paid/160p30/index.m3u8"
	waitFor(t, 40*time.Second, "segments", func() bool { return lastSegment(t, media+"?onair_token="+tok) >= 2 })
	waitSegment(t, s.base, "free", []string{"160p30"}, 2, 40*time.Second)

	// A browser-like client: the token URL once, then the cookie.
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 15 * time.Second}
	resp, err := client.Get(hls)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Set-Cookie"), "onair_token=") {
		t.Fatalf("master with token: %d, Set-Cookie %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
	if resp, err = client.Get(media); err != nil || resp.StatusCode != 200 {
		t.Fatalf("media playlist with the cookie: %v %v", err, resp)
	}
	resp.Body.Close()
	decode(t, hls)

	_, other := s.token(t, "free", `{}`)
	otherTok := other[strings.Index(other, "onair_token=")+len("onair_token="):]
	short, _ := s.token(t, "paid", `{"ttl":"1s"}`)
	ipTok, _ := s.token(t, "paid", `{"ip":"203.0.113.7"}`)
	time.Sleep(2100 * time.Millisecond) // short expires
	tampered := []byte(tok)
	tampered[10] ^= 1
	for _, tc := range []struct{ name, target, reason string }{
		{"no token", "/live/paid/master.m3u8", "missing"},
		{"no token, segment", "/live/paid/160p30/1.m4s", "missing"},
		{"expired", "/live/paid/master.m3u8?onair_token=" + short, "expired"},
		{"tampered", "/live/paid/master.m3u8?onair_token=" + string(tampered), ""},
		{"other channel's token", "/live/paid/master.m3u8?onair_token=" + otherTok, "wrong_resource"},
		{"other address", "/live/paid/master.m3u8?onair_token=" + ipTok, "wrong_ip"},
		{"traversal", "/live/paid/../free/master.m3u8?onair_token=" + tok, ""},
	} {
		code, h, body := get(s.base + tc.target)
		if code != 403 && !(tc.name == "traversal" && code == 400) {
			t.Errorf("%s: %d, want 403", tc.name, code)
		}
		if strings.Contains(string(body), "#EXTM3U") || h.Get("Set-Cookie") != "" {
			t.Errorf("%s: the refusal leaked a playlist or a cookie", tc.name)
		}
		if tc.reason != "" && counter(t, s.base, `onair_edge_access_denied_total\{reason="`+tc.reason+`"\}`) < 1 {
			t.Errorf("%s: no refusal counted with reason %s", tc.name, tc.reason)
		}
	}
	// The public channel plays without a token.
	decode(t, s.base+"/live/free/master.m3u8")
	// Making the channel public takes effect at once.
	if code, b := s.api(t, "PATCH", "/api/v1/channels/paid", `{"access":"public"}`); code != 200 {
		t.Fatalf("patch: %d %s", code, b)
	}
	if code, _, _ := get(s.base + "/live/paid/master.m3u8"); code != 200 {
		t.Errorf("public again: %d", code)
	}
}
