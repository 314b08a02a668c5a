package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A standalone `onair edge` with edge.geo_rules, a country database and
// the WAF: viewers (placed by a trusted proxy's X-Forwarded-For) play
// only from allowed countries under the rule's prefix, other paths play
// for everyone, classic attacks are blocked while playback is not, and
// SIGHUP reloads a replaced database and changed rules without a restart.
func TestStandaloneEdgeGeoAndWAF(t *testing.T) {
	origin := newFakeOrigin(t, "origin")
	dir := t.TempDir()
	db := filepath.Join(dir, "country.mmdb")
	copyFile(t, countryDB(t, map[string]string{"198.51.100.0/24": "DE", "203.0.113.0/24": "US"}), db)
	cfgFile := filepath.Join(dir, "onair.yaml")
	writeCfg := func(allow string) {
		t.Helper()
		cfg := fmt.Sprintf("edge:\n  upstreams: [%q]\n  trusted_proxies: [127.0.0.0/8]\n  geo_database: %q\n"+
			"  geo_rules:\n    - {prefix: /live/premium/, allow: [%s]}\nwaf: {enabled: true}\n", origin.URL, db, allow)
		if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg("DE")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp"))
	base := "http://" + addr
	p := startEdgeProc(t, base+"/readyz", http.DefaultClient, "--config", cfgFile, "--listen", addr)

	from := func(ip, path string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("X-Forwarded-For", ip)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	check := func(when string, cases []struct {
		ip, path string
		want     int
	}) {
		t.Helper()
		for _, c := range cases {
			if got := from(c.ip, c.path); got != c.want {
				t.Errorf("%s: %s from %s: %d, want %d", when, c.path, c.ip, got, c.want)
			}
		}
	}
	type tc = struct {
		ip, path string
		want     int
	}
	check("DE allowed", []tc{
		{"198.51.100.7", "/live/premium/v/1.m4s", 200},
		{"203.0.113.9", "/live/premium/v/1.m4s", 403},
		{"192.0.2.1", "/live/premium/v/1.m4s", 403}, // not placed: deny with an allow list
		{"203.0.113.9", "/live/free/v/1.m4s", 200},
	})
	if metric(t, base, "onair_edge_access_denied_total", `reason="geo_not_allowed"`) < 1 {
		t.Error("geo refusal not counted")
	}

	// The WAF blocks attacks; playback and LL-HLS directives pass.
	for _, target := range []string{
		"/live/free/v/index.m3u8?id=1%27%20OR%20%271%27=%271",
		"/live/free/v/index.m3u8?q=%3Cscript%3Ealert(1)%3C/script%3E",
		"/live/free/%2e%2e/%2e%2e/etc/passwd",
	} {
		if code := rawGet(t, addr, target); code != 403 && code != 400 {
			t.Errorf("attack %s: %d, want 403 or 400", target, code)
		}
	}
	if code := from("203.0.113.9", "/live/free/v/index.m3u8?_HLS_msn=3&_HLS_part=1"); code != 200 {
		t.Errorf("blocking reload through the WAF: %d", code)
	}
	if metric(t, base, "onair_waf_blocked_total") < 1 {
		t.Error("WAF blocks not counted")
	}

	// Replace the database (US moves to the allowed network's country)
	// and allow US too: SIGHUP applies both.
	copyFile(t, countryDB(t, map[string]string{"198.51.100.0/24": "DE", "203.0.113.0/24": "AT"}), db)
	writeCfg("DE, AT")
	p.signal(t, syscall.SIGHUP, "edge configuration reloaded")
	check("after reload", []tc{
		{"203.0.113.9", "/live/premium/v/1.m4s", 200},
		{"198.51.100.7", "/live/premium/v/1.m4s", 200},
		{"192.0.2.1", "/live/premium/v/1.m4s", 403},
	})
	// A broken rule is refused on reload; the running rules stay.
	writeCfg("XX-not-a-country")
	p.signal(t, syscall.SIGHUP, "edge reload refused")
	check("after a refused reload", []tc{{"203.0.113.9", "/live/premium/v/1.m4s", 200}})
	if !strings.Contains(p.logs.String(), "geo_rules") {
		t.Errorf("reload log does not name the geo rules:\n%s", tail(p.logs.String(), 10))
	}
}

// copyFile copies src over dst (through a rename, as geoipupdate does).
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}
