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

// With drm.speke_url, content keys come from a SPEKE v2.0 key provider:
// here onair's own (POST /api/v1/speke, behind http.api_token), so the
// packager's SPEKE client and the built-in provider make a real round
// trip, and the channel's encrypted stream carries the key the provider
// chose. The provider refuses a request without the token.
func TestSPEKEKeyProvider(t *testing.T) {
	base := fmt.Sprintf("http://127.0.0.1:%d", freePort(t, "tcp"))
	cfgFile := filepath.Join(t.TempDir(), "onair.yaml")
	yaml := "http:\n  api_token: op-secret\ndrm:\n  speke_url: " + base + "/api/v1/speke\n  speke_token: op-secret\n"
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServerAt(t, t.TempDir(), base, fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp")),
		fmt.Sprintf("127.0.0.1:%d", freePort(t, "udp")), "--config", cfgFile)
	req, _ := http.NewRequest("POST", base+"/api/v1/channels", strings.NewReader(`{"name":"sk","drm":{"scheme":"cbcs"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer op-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	if got := metric(t, base, "onair_speke_provider_requests_total", `result="ok"`); got < 1 {
		t.Errorf("the provider answered %v requests: the channel's key did not come through SPEKE", got)
	}
	anon, _ := http.NewRequest("POST", base+"/api/v1/speke", strings.NewReader("<CPIX/>"))
	anon.Header.Set("Content-Type", "application/xml")
	anon.Header.Set("X-Speke-Version", "2.0")
	resp, err = http.DefaultClient.Do(anon)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("SPEKE request without the token: %d, want 401", resp.StatusCode)
	}
	waitFor(t, 10*time.Second, "the key in the logs", func() bool {
		return strings.Contains(s.logs.String(), `msg="content key made"`)
	})
}
