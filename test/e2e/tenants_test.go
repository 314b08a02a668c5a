package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// startNATS runs a NATS server with JetStream on a loopback port for
// the test, so that `onair serve` and `onair edge` share it. It returns
// the client URL and the JetStream store directory.
func startNATS(t *testing.T) (url, storeDir string) {
	t.Helper()
	storeDir = t.TempDir()
	ns, err := natsserver.NewServer(&natsserver.Options{
		ServerName: "e2e", Host: "127.0.0.1", Port: freePort(t, "tcp"),
		JetStream: true, StoreDir: storeDir, NoSigs: true, NoLog: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats did not start within 10 s")
	}
	return ns.ClientURL(), storeDir
}

// grepTree names the files under dir that contain needle.
func grepTree(t *testing.T, dir, needle string) string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(needle)) {
			hits = append(hits, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(hits, ", ")
}

// apiAs calls the API presenting a tenant API key.
func (s *server) apiAs(t *testing.T, key, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// Tenants, viewer sessions and the edge tier's shared secret on the real
// binaries: serve and a standalone edge share a NATS server.
//   - The operator makes tenants a and b and an admin key for each; each
//     tenant creates a signed, AES-128 channel. a's key cannot see or
//     touch b's channel (404 everywhere) and lists only its own.
//   - serve has http.origin_secret: playback straight from it is 403;
//     the edge, which sends the secret, plays.
//   - A token issued for session "viewer-1" plays through the edge and
//     gets its key from the license endpoint; the session is listed with
//     its personal data. a revokes it: within seconds the edge refuses
//     the token (reason revoked) and the license endpoint refuses the key,
//     while another session's token still plays.
func TestTenantsSessionsAndOriginSecret(t *testing.T) {
	natsURL, natsDir := startNATS(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "onair.yaml")
	const secret = "edge-tier-only-7f3a"
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("nats: {url: %q}\nhttp: {origin_secret: %q}\nsessions: {ttl: 10m}\nsigning: {token_ttl: 5m}\n", natsURL, secret)), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	s := startServer(t, data, "--config", cfg)

	keys := map[string]string{}
	for _, id := range []string{"a", "b"} {
		if code, b := s.api(t, "POST", "/api/v1/tenants", `{"id":"`+id+`"}`); code != 201 {
			t.Fatalf("create tenant %s: %d %s", id, code, b)
		}
		code, b := s.api(t, "POST", "/api/v1/tenants/"+id+"/keys", `{"role":"admin","description":"e2e"}`)
		var k struct{ Key string }
		if code != 201 || json.Unmarshal(b, &k) != nil || !strings.HasPrefix(k.Key, "onair_") {
			t.Fatalf("key for %s: %d %s", id, code, b)
		}
		keys[id] = k.Key
	}
	var ch channel
	for _, id := range []string{"a", "b"} {
		code, b := s.apiAs(t, keys[id], "POST", "/api/v1/channels", `{"name":"`+id+`-show","access":"signed","drm":{"scheme":"aes128"}}`)
		if code != 201 {
			t.Fatalf("tenant %s creates a channel: %d %s", id, code, b)
		}
		if id == "a" {
			if err := json.Unmarshal(b, &ch); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/channels/b-show", ""},
		{"DELETE", "/api/v1/channels/b-show", ""},
		{"POST", "/api/v1/channels/b-show/tokens", `{}`},
		{"GET", "/api/v1/channels/b-show/sessions", ""},
		{"GET", "/api/v1/tenants/b/keys", ""},
	} {
		if code, b := s.apiAs(t, keys["a"], c.method, c.path, c.body); code != 404 {
			t.Errorf("a's key: %s %s: %d, want 404: %s", c.method, c.path, code, b)
		}
	}
	if _, b := s.apiAs(t, keys["a"], "GET", "/api/v1/channels", ""); strings.Contains(string(b), "b-show") || !strings.Contains(string(b), "a-show") {
		t.Errorf("a's channel list: %s", b)
	}

	edgeCfg := filepath.Join(dir, "edge.yaml")
	if err := os.WriteFile(edgeCfg, []byte(fmt.Sprintf("edge:\n  upstreams: [%q]\n  events_url: %q\n  origin_secret: %q\n  signing_keys: {k1: %q}\n  signed_prefixes: [/live/a-show/]\n",
		s.base, natsURL, secret, filepath.Join(data, "signing", "ed25519.pub.pem"))), 0o600); err != nil {
		t.Fatal(err)
	}
	edgeAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp"))
	edge := "http://" + edgeAddr
	startEdgeProc(t, edge+"/readyz", http.DefaultClient, "--config", edgeCfg, "--listen", edgeAddr)
	publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey), "320x240", 30, 0)

	issue := func(body string) (tok, lic string) {
		code, b := s.apiAs(t, keys["a"], "POST", "/api/v1/channels/a-show/tokens", body)
		var res struct {
			Token   string
			License struct{ Token string }
		}
		if code != 201 || json.Unmarshal(b, &res) != nil {
			t.Fatalf("token: %d %s", code, b)
		}
		return res.Token, res.License.Token
	}
	tok, lic := issue(`{"session":"viewer-1","user_id":"u-42","user_agent":"e2e-player/1","ip":"127.0.0.1"}`)
	other, _ := issue(`{"session":"viewer-2"}`)
	media := "/live/a-show/160p30/index.m3u8?onair_token="
	waitFor(t, 60*time.Second, "the media playlist through the edge", func() bool {
		code, _, _ := get(edge + media + tok)
		return code == 200
	})
	waitKey(t, edge+media+tok, "AES-128")
	_, _, pl := get(edge + media + tok)
	m := regexp.MustCompile(`/license/a-show/aes128/([0-9a-f]{32})`).FindSubmatch(pl)
	if m == nil {
		t.Fatalf("no AES-128 key URI in the playlist:\n%s", pl)
	}

	if code, _, _ := get(s.base + media + tok); code != 403 {
		t.Errorf("playback straight from the origin: %d, want 403 (origin secret)", code)
	}
	if metric(t, s.base, "onair_origin_secret_refused_total") < 1 {
		t.Error("origin-secret refusal not counted")
	}
	keyURL := fmt.Sprintf("%s/license/a-show/aes128/%s?token=%s", s.base, m[1], lic)
	if code, _, b := get(keyURL); code != 200 || len(b) != 16 {
		t.Fatalf("key with a live session: %d (%d bytes)", code, len(b))
	}

	code, b := s.apiAs(t, keys["a"], "GET", "/api/v1/channels/a-show/sessions", "")
	if code != 200 || !strings.Contains(string(b), `"viewer-1"`) || !strings.Contains(string(b), `"u-42"`) || !strings.Contains(string(b), `"e2e-player/1"`) {
		t.Fatalf("sessions: %d %s", code, b)
	}
	if code, b := s.apiAs(t, keys["b"], "DELETE", "/api/v1/channels/a-show/sessions/viewer-1", ""); code != 404 {
		t.Errorf("b revokes a's session: %d %s", code, b)
	}
	if code, b := s.apiAs(t, keys["a"], "DELETE", "/api/v1/channels/a-show/sessions/viewer-1", ""); code != 204 {
		t.Fatalf("revoke: %d %s", code, b)
	}
	revoked := time.Now()
	waitFor(t, 10*time.Second, "the edge refuses the revoked token", func() bool {
		code, _, _ := get(edge + media + tok)
		return code == 403
	})
	t.Logf("edge refused the revoked session %v after the API call", time.Since(revoked).Round(time.Millisecond))
	if metric(t, edge, "onair_edge_access_denied_total", `reason="revoked"`) < 1 {
		t.Error("revoked refusal not counted at the edge")
	}
	if code, _, _ := get(keyURL); code != 403 {
		t.Errorf("key for a revoked session: %d, want 403", code)
	}
	if code, _, _ := get(edge + media + other); code != 200 {
		t.Errorf("another session's token after the revocation: %d, want 200", code)
	}
	if _, b := s.apiAs(t, keys["a"], "GET", "/api/v1/channels/a-show/sessions", ""); !strings.Contains(string(b), `"revoked"`) {
		t.Errorf("revoked session not flagged: %s", b)
	}
	// The personal data is not in NATS in the clear.
	for _, needle := range []string{"u-42", "e2e-player/1"} {
		if hits := grepTree(t, natsDir, needle); hits != "" {
			t.Errorf("%q stored in the clear: %s", needle, hits)
		}
	}
}
