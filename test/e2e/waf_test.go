package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// With waf.enabled, classic attacks on the API and the playback paths get
// 403 and are counted, while the API, playback with ffmpeg and a license
// request work as before.
func TestWAFBlocksAttacksNotPlayback(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "onair.yaml")
	if err := os.WriteFile(cfgFile, []byte("waf:\n  enabled: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", "--config", cfgFile)
	ch := s.createChannel(t, "waf", false)
	publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey), "320x240", 30, 0)
	waitSegment(t, s.base, "waf", []string{"160p30"}, 2, 60*time.Second)
	decode(t, s.base+"/live/waf/master.m3u8")
	if code, _, _ := get(s.base + "/live/waf/160p30/index.m3u8?_HLS_msn=1&_HLS_part=0"); code != 200 {
		t.Errorf("blocking playlist reload: %d", code)
	}
	attacks := []struct{ name, method, path, header string }{
		{"sql injection", "GET", "/api/v1/channels?id=1%27%20OR%20%271%27=%271", ""},
		{"union select", "GET", "/api/v1/channels/waf?q=1%20UNION%20SELECT%20password%20FROM%20users", ""},
		{"xss", "GET", "/live/waf/master.m3u8?x=%3Cscript%3Ealert(1)%3C/script%3E", ""},
		{"encoded traversal", "GET", "/live/waf/%2e%2e%2f%2e%2e%2fetc%2fpasswd", ""},
		{"shell injection", "GET", "/api/v1/channels?cmd=;cat%20/etc/passwd", ""},
		{"header injection", "GET", "/api/v1/channels", "X-Forwarded-Host: evil%0d%0aSet-Cookie:%20a=b"},
	}
	before := metric(t, s.base, "onair_waf_blocked_total")
	for _, a := range attacks {
		req, _ := http.NewRequest(a.method, s.base+a.path, nil)
		if a.header != "" {
			k, v, _ := strings.Cut(a.header, ": ")
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 && resp.StatusCode != 400 {
			t.Errorf("%s: %s %s got %d, want 403", a.name, a.method, a.path, resp.StatusCode)
		}
	}
	if after := metric(t, s.base, "onair_waf_blocked_total"); after < before+4 {
		t.Errorf("onair_waf_blocked_total %v -> %v after %d attacks", before, after, len(attacks))
	}
	if code, b := s.api(t, "PATCH", "/api/v1/channels/waf", `{"access":"public"}`); code != 200 {
		t.Errorf("API update through the WAF: %d %s", code, b)
	}
	_, _, m := get(s.base + "/live/waf/160p30/index.m3u8")
	if !strings.Contains(string(m), "#EXTINF") {
		t.Errorf("playlist through the WAF:\n%s", m)
	}
}
