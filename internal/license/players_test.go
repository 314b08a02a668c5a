package license

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests in this file run real clients against the handler on a
// loopback server: ffmpeg fetching HLS AES-128 keys, and Chromium's Clear
// Key CDM through EME. They fail (never skip) when ffmpeg or
// /usr/bin/chromium is missing.

// liveFixture is the handler on a loopback server, with a real clock.
type liveFixture struct {
	*fixture
	srv    *httptest.Server
	issuer *Issuer
}

func newLiveFixture(t *testing.T, cfg HandlerConfig) *liveFixture {
	t.Helper()
	i, err := NewIssuer(IssuerConfig{Kid: "k1", Key: testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	lf := &liveFixture{issuer: i}
	v, err := NewVerifier(VerifierConfig{Keys: testKeySet(t, i)})
	if err != nil {
		t.Fatal(err)
	}
	lf.fixture = newFixtureWith(t, cfg, v)
	mux := http.NewServeMux()
	mux.Handle(DefaultPrefix, lf.h)
	lf.srv = httptest.NewServer(mux)
	t.Cleanup(lf.srv.Close)
	return lf
}

// token issues a real-clock token for channel.
func (lf *liveFixture) token(t *testing.T, channel string) string {
	t.Helper()
	return mustIssue(t, lf.issuer, "acme", channel, "s1")
}

func TestFFmpegFetchesAES128Key(t *testing.T) {
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("ffmpeg is required for this test: %v", err)
	}
	lf := newLiveFixture(t, HandlerConfig{})
	dir := t.TempDir()
	key := lf.keys.keys["news"][kidNewsV]
	keyFile := filepath.Join(dir, "k.bin")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}

	// Package a 2 s clip as HLS AES-128 (whole MPEG-TS segments) whose
	// EXT-X-KEY URI is the handler's key URL with the token in the query.
	keyURL := lf.srv.URL + "/license/news/aes128/" + hex.EncodeToString(kidNewsV[:])
	info := filepath.Join(dir, "key.info")
	if err := os.WriteFile(info, []byte(keyURL+"?token="+lf.token(t, "news")+"\n"+keyFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	playlist := filepath.Join(dir, "index.m3u8")
	run(t, bin, "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=10", "-t", "2",
		"-c:v", "libx264", "-g", "10", "-pix_fmt", "yuv420p", "-f", "hls", "-hls_time", "1", "-hls_list_size", "0",
		"-hls_key_info_file", info, "-hls_segment_filename", filepath.Join(dir, "seg%d.ts"), playlist)
	pl, err := os.ReadFile(playlist)
	if err != nil || !strings.Contains(string(pl), "#EXT-X-KEY:METHOD=AES-128,URI=\""+keyURL+"?token=") {
		t.Fatalf("playlist without our key URI (%v):\n%s", err, pl)
	}
	if seg, _ := os.ReadFile(filepath.Join(dir, "seg0.ts")); len(seg) == 0 || seg[0] == 0x47 {
		t.Fatal("segment 0 is not encrypted")
	}

	decode := func(playlist string) (frames int, stderr string, err error) {
		cmd := exec.Command(bin, "-v", "error", "-nostdin", "-protocol_whitelist", "file,crypto,http,tcp",
			"-i", playlist, "-f", "framecrc", "-")
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err = cmd.Run()
		for _, l := range strings.Split(out.String(), "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				frames++
			}
		}
		return frames, errb.String(), err
	}
	frames, stderr, err := decode(playlist)
	if err != nil || frames != 20 || stderr != "" {
		t.Fatalf("decoding with the served key: %d frames, err %v, stderr %s", frames, err, stderr)
	}
	if got := lf.requests("aes128", "ok"); got < 1 {
		t.Errorf("requests{aes128,ok} = %v", got)
	}

	// The same playlist with another channel's token: ffmpeg gets 403 and
	// no key, so nothing decodes.
	other := strings.ReplaceAll(string(pl), "?token=", "?token="+lf.token(t, "sports")+"&was=")
	otherPath := filepath.Join(dir, "other.m3u8")
	if err := os.WriteFile(otherPath, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	frames, stderr, _ = decode(otherPath)
	if frames != 0 || !strings.Contains(stderr, "Unable to open key file") {
		t.Errorf("decoding with a sports token: %d frames, stderr %s", frames, stderr)
	}
	if got := lf.refused("wrong_channel"); got < 1 {
		t.Errorf("refused{wrong_channel} = %v", got)
	}
}

func run(t *testing.T, bin string, args ...string) {
	t.Helper()
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, out)
	}
}

// emePage runs EME Clear Key sessions in Chromium: for each case it
// creates a temporary session for key IDs, posts the CDM's license request
// to the license URL (another origin) with the case's bearer token, hands
// the answer to the CDM, and reports the HTTP status, the CDM's request
// and the key statuses; the results are posted back to /result.
const emePage = `<!doctype html><meta charset="utf-8"><title>eme</title><script>
const cfg = JSON.parse(decodeURIComponent(location.hash.slice(1)));
const b64url = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
function one(mk, c) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({error: 'timeout'}), 15000);
    const done = (r) => { clearTimeout(timer); resolve(r); };
    const s = mk.createSession('temporary');
    s.addEventListener('message', async (e) => {
      try {
        const res = {request: JSON.parse(new TextDecoder().decode(e.message))};
        const r = await fetch(cfg.license, {method: 'POST', body: e.message,
          headers: {'Authorization': 'Bearer ' + c.token, 'Content-Type': 'application/json'}});
        res.status = r.status;
        if (!r.ok) { res.body = await r.text(); done(res); return; }
        await s.update(await r.arrayBuffer());
        res.statuses = {};
        s.keyStatuses.forEach((v, k) => { res.statuses[b64url(k)] = v; });
        done(res);
      } catch (err) { done({error: String(err)}); }
    });
    s.generateRequest('keyids', new TextEncoder().encode(JSON.stringify({kids: c.kids})))
      .catch((err) => done({error: String(err)}));
  });
}
(async () => {
  const out = {};
  try {
    const access = await navigator.requestMediaKeySystemAccess('org.w3.clearkey', [{
      initDataTypes: ['keyids'],
      videoCapabilities: [{contentType: 'video/mp4; codecs="avc1.42E01E"'}]}]);
    const mk = await access.createMediaKeys();
    for (const c of cfg.cases) out[c.name] = await one(mk, c);
  } catch (err) { out.error = String(err); }
  await fetch('/result', {method: 'POST', body: JSON.stringify(out)});
})();
</script>`

// emeResult is one case's outcome as the page saw it.
type emeResult struct {
	Error    string            `json:"error"`
	Status   int               `json:"status"`
	Body     string            `json:"body"`
	Request  clearKeyRequest   `json:"request"`
	Statuses map[string]string `json:"statuses"`
}

func TestChromiumClearKeyEME(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("chromium is required for this test: %v", err)
	}
	results := make(chan map[string]emeResult, 1)
	page := http.NewServeMux()
	page.HandleFunc("GET /eme.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, emePage)
	})
	page.HandleFunc("POST /result", func(w http.ResponseWriter, r *http.Request) {
		var m map[string]emeResult
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("result: %v", err)
		}
		select {
		case results <- m:
		default:
		}
	})
	pageSrv := httptest.NewServer(page)
	defer pageSrv.Close()

	// The page and the license endpoint are different origins (ports).
	lf := newLiveFixture(t, HandlerConfig{AllowOrigins: []string{pageSrv.URL}})
	news := lf.token(t, "news")
	kid := func(k [16]byte) string { return b64(k[:]) }
	cases := []map[string]any{
		{"name": "both", "token": news, "kids": []string{kid(kidNewsV), kid(kidNewsA)}},
		{"name": "partial", "token": news, "kids": []string{kid(kidNewsV), kid(kidUnknown)}},
		{"name": "wrong-channel", "token": lf.token(t, "sports"), "kids": []string{kid(kidNewsV)}},
		{"name": "bad-token", "token": "x.y.z", "kids": []string{kid(kidNewsV)}},
	}
	cfg, _ := json.Marshal(map[string]any{"license": lf.srv.URL + "/license/news/clearkey", "cases": cases})
	target := pageSrv.URL + "/eme.html#" + url.PathEscape(string(cfg))

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), target)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the browser's own process group
		cmd.Wait()
	}()

	var got map[string]emeResult
	select {
	case got = <-results:
	case <-ctx.Done():
		t.Fatalf("no result from Chromium within 60 s; stderr:\n%s", stderr.String())
	}
	if e, ok := got["error"]; ok {
		t.Fatalf("EME setup failed: %+v", e)
	}
	check := func(name string, status int, statuses map[string]string) {
		t.Helper()
		r := got[name]
		if r.Error != "" || r.Status != status || fmt.Sprint(r.Statuses) != fmt.Sprint(statuses) {
			t.Errorf("%s: %+v; want status %d, key statuses %v", name, r, status, statuses)
		}
	}
	check("both", 200, map[string]string{kid(kidNewsV): "usable", kid(kidNewsA): "usable"})
	check("partial", 200, map[string]string{kid(kidNewsV): "usable"})
	check("wrong-channel", 403, nil)
	check("bad-token", 401, nil)
	// The CDM's own license request is what the handler parses.
	if r := got["both"].Request; r.Type != "temporary" || strings.Join(r.Kids, ",") != kid(kidNewsV)+","+kid(kidNewsA) {
		t.Errorf("CDM license request %+v", r)
	}
	if got["wrong-channel"].Body != `{"error":"wrong_channel"}`+"\n" {
		t.Errorf("refusal body as the page read it: %q", got["wrong-channel"].Body)
	}
	if lf.requests("clearkey", "ok") != 2 || lf.refused("wrong_channel") != 1 || lf.refused("bad_token") != 1 {
		t.Errorf("counters: ok %v, wrong_channel %v, bad_token %v", lf.requests("clearkey", "ok"),
			lf.refused("wrong_channel"), lf.refused("bad_token"))
	}
}
