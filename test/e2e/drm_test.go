package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// drmPage serves test/player/drm.html with hls.js and dash.js next to it,
// on its own origin (license requests are cross-origin, as with a
// customer's player page).
func drmPage(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, "../player/drm.html") })
	mux.HandleFunc("/hls.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, "../../web/node_modules/hls.js/dist/hls.min.js")
	})
	mux.HandleFunc("/dash.all.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, "../../web/node_modules/dashjs/dist/modern/umd/dash.all.min.js")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// licenseToken asks the API for a viewer token of a DRM channel.
func (s *server) licenseToken(t *testing.T, name, body string) string {
	t.Helper()
	code, b := s.api(t, "POST", "/api/v1/channels/"+name+"/tokens", body)
	if code != 201 {
		t.Fatalf("token for %s: %d %s", name, code, b)
	}
	var res struct {
		License *struct {
			Token    string `json:"token"`
			Scheme   string `json:"scheme"`
			ClearKey string `json:"clearkey"`
		} `json:"license"`
	}
	if err := json.Unmarshal(b, &res); err != nil || res.License == nil || res.License.Token == "" {
		t.Fatalf("token response without a license token: %v %s", err, b)
	}
	return res.License.Token
}

// metric sums the samples of a counter whose line contains every part.
func metric(t *testing.T, base, name string, parts ...string) float64 {
	t.Helper()
	_, _, b := get(base + "/metrics")
	var sum float64
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, name+"{") && !strings.HasPrefix(l, name+" ") {
			continue
		}
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			var v float64
			fmt.Sscanf(l[strings.LastIndexByte(l, ' ')+1:], "%g", &v)
			sum += v
		}
	}
	return sum
}

// ffmpegErrors decodes a file with ffmpeg (extra options before -i) and
// returns what it printed at error level.
func ffmpegErrors(t *testing.T, path string, extra ...string) string {
	t.Helper()
	args := append([]string{"-v", "error", "-nostdin"}, extra...)
	args = append(args, "-i", path, "-f", "null", "-")
	out, _ := exec.Command("ffmpeg", args...).CombinedOutput()
	return string(out)
}

// TestDRMPlayback encrypts one channel with each scheme in turn and plays
// it the way viewers do, with keys only from the license endpoint:
//   - cbcs: dash.js (DASH) and hls.js (HLS SAMPLE-AES) with W3C Clear Key
//     in headless Chromium; the same page with an expired, tampered or
//     other channel's token, or none, gets no keys and does not play, and
//     each refusal is counted by reason;
//   - cenc: dash.js with Clear Key; ffmpeg cannot decode a raw fragment
//     without the key and decodes it cleanly with the key the license
//     endpoint returns;
//   - aes128: hls.js plays with the token and not without; ffmpeg reads
//     the whole HLS stream with the token; the playlist has no parts and
//     there is no MPD.
func TestDRMPlayback(t *testing.T) {
	s := startServer(t, "")
	page := drmPage(t)
	code, b := s.api(t, "POST", "/api/v1/channels", `{"name":"drm","drm":{"scheme":"cbcs"}}`)
	if code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	var ch channel
	if err := json.Unmarshal(b, &ch); err != nil {
		t.Fatal(err)
	}
	// A second DRM channel that never plays, for other-channel tokens.
	if code, b := s.api(t, "POST", "/api/v1/channels", `{"name":"other","drm":{"scheme":"cenc"}}`); code != 201 {
		t.Fatalf("create other: %d %s", code, b)
	}
	if code, b := s.api(t, "POST", "/api/v1/channels", `{"name":"bad","drm":{"scheme":"clear","rotate_every":3}}`); code != 400 {
		t.Errorf("rotation of a clear channel: %d %s, want 400", code, b)
	}
	chName := "drm"
	pub := publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey), "320x240", 30, 0)
	waitSegment(t, s.base, "drm", []string{"160p30", "audio"}, 3, 60*time.Second)
	// next moves the test to a new channel with another scheme, or DRM
	// settings in JSON (one encode at a time on a 2-core machine).
	next := func(name, scheme string) {
		t.Helper()
		pub.stop()
		if code, b := s.api(t, "DELETE", "/api/v1/channels/"+chName, ""); code != 204 {
			t.Fatalf("delete %s: %d %s", chName, code, b)
		}
		settings := `{"scheme":"` + scheme + `"}`
		if strings.HasPrefix(scheme, "{") {
			settings = scheme
		}
		code, b := s.api(t, "POST", "/api/v1/channels", `{"name":"`+name+`","drm":`+settings+`}`)
		if code != 201 {
			t.Fatalf("create %s: %d %s", name, code, b)
		}
		var c channel
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		chName = name
		pub = publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, c.Ingest.StreamKey), "320x240", 30, 0)
		waitSegment(t, s.base, name, []string{"160p30", "audio"}, 2, 60*time.Second)
	}

	src := func(p string) string { return url.QueryEscape(s.base + "/live/" + chName + "/" + p) }
	play := func(player, p, token string, seconds int) playResult {
		t.Helper()
		startup := 40
		if seconds < 5 { // a refusal is expected: don't wait long for a start
			startup = 10
		}
		res, err := runPlayerStartup(fmt.Sprintf("%s/?player=%s&src=%s&token=%s", page, player, src(p), url.QueryEscape(token)), seconds, startup)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	mustPlay := func(what string, res playResult) {
		t.Helper()
		t.Logf("%s: ok=%v rate=%.2f stalls=%d errors=%v", what, res.OK, res.Rate, res.Stalls, res.Errors)
		// Playing is the point here, not pace: dash.js slows down near
		// the live edge of a young channel (rates are checked elsewhere).
		if !res.OK || res.Advanced < 3 {
			t.Errorf("%s did not play: %s, advanced %.1f s, errors %v", what, res.Reason, res.Advanced, res.Errors)
		}
	}
	mustFail := func(what string, res playResult) {
		t.Helper()
		// A player that cannot decrypt may still seek to the live edge
		// while it is sampled: currentTime jumps tens of seconds in a
		// few (rate far above 1), which is not playing.
		if res.OK || (res.Advanced > 0.5 && res.Rate < 3) {
			t.Errorf("%s played without a valid license token: advanced %.1f s, rate %.2f", what, res.Advanced, res.Rate)
		}
	}

	// Raw media is encrypted: ffmpeg cannot decode it.
	raw := fetchPair(t, s.base+"/live/drm/160p30/", 2)
	if out := ffmpegErrors(t, raw); !strings.Contains(out, "error while decoding") {
		t.Errorf("ffmpeg decoded a raw cbcs fragment without errors: %q", out)
	}

	tok := s.licenseToken(t, "drm", `{"ttl":"10m","session":"viewer-1"}`)
	t.Run("cbcs", func(t *testing.T) {
		okBefore := metric(t, s.base, "onair_license_requests_total", `kind="clearkey"`, `result="ok"`)
		mustPlay("dash.js cbcs", play("dash", "manifest.mpd", tok, 8))
		mustPlay("hls.js cbcs", play("hls", "master.m3u8", tok, 8))
		if got := metric(t, s.base, "onair_license_requests_total", `kind="clearkey"`, `result="ok"`); got < okBefore+2 {
			t.Errorf("license answers %v -> %v: the players did not get their keys from the license endpoint", okBefore, got)
		}

		short := s.licenseToken(t, "drm", `{"ttl":"1s"}`)
		other := s.licenseToken(t, "other", `{}`)
		i := strings.LastIndexByte(tok, '.') + 3
		tampered := tok[:i] + string("AB"[int(tok[i]-'A')&1^1]) + tok[i+1:]
		if tampered == tok {
			t.Fatal("tampering did not change the token")
		}
		time.Sleep(7 * time.Second) // past the 1 s lifetime and the 5 s leeway
		for _, c := range []struct{ name, token, reason string }{
			{"expired", short, "expired"},
			{"tampered", tampered, "bad_token"},
			{"other channel", other, "wrong_channel"},
			{"no token", "", "no_token"},
		} {
			before := metric(t, s.base, "onair_license_refused_total", `reason="`+c.reason+`"`)
			mustFail("dash.js with "+c.name+" token", play("dash", "manifest.mpd", c.token, 4))
			if after := metric(t, s.base, "onair_license_refused_total", `reason="`+c.reason+`"`); after <= before {
				t.Errorf("%s token: refusals with reason %s %v -> %v", c.name, c.reason, before, after)
			}
		}
	})

	t.Run("cenc", func(t *testing.T) {
		next("drmc", "cenc")
		tok := s.licenseToken(t, "drmc", `{"ttl":"10m"}`)
		kid := waitKey(t, s.base+"/live/drmc/160p30/index.m3u8", "SAMPLE-AES-CTR")
		n := lastSegment(t, s.base+"/live/drmc/160p30/index.m3u8")
		raw := fetchPair(t, s.base+"/live/drmc/160p30/", n)
		if out := ffmpegErrors(t, raw); !strings.Contains(out, "error while decoding") {
			t.Errorf("ffmpeg decoded a raw cenc fragment without the key: %q", out)
		}
		key := clearKey(t, s.base+"/license/drmc/clearkey", tok, kid)
		if out := ffmpegErrors(t, raw, "-decryption_key", hex.EncodeToString(key)); out != "" {
			t.Errorf("ffmpeg with the license's key: %s", out)
		}
		mustPlay("dash.js cenc", play("dash", "manifest.mpd", tok, 8))
	})

	// Key rotation with cbcs: a new key every 2 segments (4 s) comes
	// with a new init (HLS EXT-X-KEY and EXT-X-MAP, a DASH Period).
	// dash.js and hls.js each cross several keys, asking the license
	// endpoint for each.
	t.Run("cbcs rotation", func(t *testing.T) {
		next("drmr", `{"scheme":"cbcs","rotate_every":2}`)
		tok := s.licenseToken(t, "drmr", `{"ttl":"10m"}`)
		playlist := s.base + "/live/drmr/160p30/index.m3u8"
		waitFor(t, 60*time.Second, "two keys in "+playlist, func() bool {
			_, _, b := get(playlist)
			kids := map[string]bool{}
			for _, m := range keyIDRe.FindAllStringSubmatch(string(b), -1) {
				kids[m[1]] = true
			}
			return len(kids) >= 2
		})
		before := metric(t, s.base, "onair_license_requests_total", `kind="clearkey"`, `result="ok"`)
		mustPlay("dash.js cbcs with rotation", play("dash", "manifest.mpd", tok, 14))
		if got := metric(t, s.base, "onair_license_requests_total", `kind="clearkey"`, `result="ok"`) - before; got < 2 {
			t.Errorf("dash.js got %v licenses over 14 s of 4 s key periods, want at least 2", got)
		}
		before = metric(t, s.base, "onair_license_requests_total", `kind="clearkey"`, `result="ok"`)
		mustPlay("hls.js cbcs with rotation", play("hls", "master.m3u8", tok, 14))
		if got := metric(t, s.base, "onair_license_requests_total", `kind="clearkey"`, `result="ok"`) - before; got < 2 {
			t.Errorf("hls.js got %v licenses over 14 s of 4 s key periods, want at least 2", got)
		}
	})

	t.Run("aes128", func(t *testing.T) {
		next("drma", "aes128")
		tok := s.licenseToken(t, "drma", `{"ttl":"10m"}`)
		waitKey(t, s.base+"/live/drma/160p30/index.m3u8", "AES-128")
		_, _, pl := get(s.base + "/live/drma/160p30/index.m3u8")
		if strings.Contains(string(pl), "EXT-X-PART") {
			t.Errorf("AES-128 playlist lists parts:\n%s", pl)
		}
		if code, _, _ := get(s.base + "/live/drma/manifest.mpd"); code != 404 {
			t.Errorf("MPD of an AES-128 channel: %d, want 404", code)
		}
		mustPlay("hls.js aes128", play("hls", "master.m3u8", tok, 8))
		mustFail("hls.js aes128 without a token", play("hls", "master.m3u8", "", 4))
		// ffmpeg as an independent HLS client: the key URI answers it
		// with the token in a header, and the stream decodes cleanly.
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-nostdin", "-headers", "Authorization: Bearer "+tok+"\r\n",
			"-i", s.base+"/live/drma/160p30/index.m3u8", "-t", "3", "-f", "null", "-").CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("ffmpeg reading the AES-128 stream with the token: %v\n%s", err, out)
		}
	})
}

var keyIDRe = regexp.MustCompile(`KEYID=0x([0-9a-f]{32})`)

// waitKey waits until a media playlist states a key of method and
// returns its KEYID (zero for AES-128).
func waitKey(t *testing.T, playlist, method string) [16]byte {
	t.Helper()
	var kid [16]byte
	waitFor(t, 60*time.Second, "a "+method+" key in "+playlist, func() bool {
		_, _, b := get(playlist)
		if !strings.Contains(string(b), "METHOD="+method+",") {
			return false
		}
		if m := keyIDRe.FindStringSubmatch(string(b)); m != nil {
			hex.Decode(kid[:], []byte(m[1]))
		}
		return lastSegment(t, playlist) >= 1
	})
	return kid
}

// fetchPair writes rendition base's init and part 0 of segment n to a file
// (one init + fragment pair, which ffmpeg can decrypt).
func fetchPair(t *testing.T, base string, n int64) string {
	t.Helper()
	_, _, pl := get(base + "index.m3u8")
	init := "init.mp4"
	if m := regexp.MustCompile(`#EXT-X-MAP:URI="([^"]+)"`).FindAllSubmatch(pl, -1); len(m) > 0 {
		init = string(m[len(m)-1][1])
	}
	var out []byte
	for _, p := range []string{init, fmt.Sprintf("%d.0.m4s", n)} {
		code, _, b := get(base + p)
		if code != 200 {
			t.Fatalf("GET %s%s: %d", base, p, code)
		}
		out = append(out, b...)
	}
	path := filepath.Join(t.TempDir(), "pair.mp4")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// clearKey asks the license endpoint for one key as a Clear Key player
// does.
func clearKey(t *testing.T, url, token string, kid [16]byte) []byte {
	t.Helper()
	b64 := base64.RawURLEncoding
	body := `{"kids":["` + b64.EncodeToString(kid[:]) + `"],"type":"temporary"}`
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var lic struct {
		Keys []struct{ Kid, K string }
	}
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if err := json.Unmarshal(buf.Bytes(), &lic); err != nil || resp.StatusCode != 200 || len(lic.Keys) != 1 {
		t.Fatalf("license: %d %s", resp.StatusCode, buf.String())
	}
	k, err := b64.DecodeString(lic.Keys[0].K)
	if err != nil || len(k) != 16 {
		t.Fatalf("license key %q: %v", lic.Keys[0].K, err)
	}
	return k
}
