package e2e

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// countryDB writes a GeoLite2-Country-shaped database placing each CIDR
// in its country.
func countryDB(t *testing.T, nets map[string]string) string {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-Country", RecordSize: 24, IncludeReservedNetworks: true,
		Description: map[string]string{"en": "onair e2e"}})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, iso := range nets {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		rec := mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(iso)}}
		if err := w.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "country.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return path
}

// A channel with a country rule plays only for viewers the database
// places in an allowed country (the viewer's address comes from a trusted
// proxy's X-Forwarded-For); others get 403, counted by reason. A channel
// without a rule plays for everyone.
func TestGeoRestriction(t *testing.T) {
	db := countryDB(t, map[string]string{"203.0.113.0/24": "DE", "198.51.100.0/24": "US"})
	cfg := filepath.Join(t.TempDir(), "onair.yaml")
	yaml := "edge: {geo_database: " + db + ", trusted_proxies: [127.0.0.0/8]}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", "--config", cfg)
	if code, b := s.api(t, "POST", "/api/v1/channels", `{"name":"de-only","geo":{"allow":["de"]}}`); code != 201 {
		t.Fatalf("create: %d %s", code, b)
	}
	if code, b := s.api(t, "POST", "/api/v1/channels", `{"name":"bad","geo":{"allow":["DEU"]}}`); code != 400 {
		t.Errorf("a three-letter code: %d %s, want 400", code, b)
	}
	s.createChannel(t, "open", false)
	from := func(path, addr string) int {
		req, _ := http.NewRequest("GET", s.base+path, nil)
		if addr != "" {
			req.Header.Set("X-Forwarded-For", addr)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Nothing is published: an admitted request reaches the origin, which
	// has no playlist yet (404); a refused one stops at 403.
	for _, tc := range []struct {
		name, path, addr string
		want             int
	}{
		{"allowed country", "/live/de-only/master.m3u8", "203.0.113.7", 404},
		{"other country", "/live/de-only/master.m3u8", "198.51.100.1", 403},
		{"unplaced address", "/live/de-only/master.m3u8", "192.0.2.1", 403},
		{"loopback itself (unplaced)", "/live/de-only/master.m3u8", "", 403},
		{"spoofed behind an untrusted hop", "/live/de-only/master.m3u8", "203.0.113.7, 198.51.100.1", 403},
		{"channel without a rule", "/live/open/master.m3u8", "198.51.100.1", 404},
	} {
		if got := from(tc.path, tc.addr); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	if counter(t, s.base, `onair_edge_access_denied_total\{reason="geo_not_allowed"\}`) < 1 ||
		counter(t, s.base, `onair_edge_access_denied_total\{reason="geo_unknown"\}`) < 2 {
		t.Errorf("refusals not counted by reason")
	}
	// SIGHUP reloads a replaced database: the US network moves to DE.
	copyFile(t, countryDB(t, map[string]string{"203.0.113.0/24": "DE", "198.51.100.0/24": "DE"}), db)
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "geo database reloaded in the log", func() bool {
		return strings.Contains(s.logs.String(), "geo database reloaded")
	})
	if got := from("/live/de-only/master.m3u8", "198.51.100.1"); got != 404 {
		t.Errorf("after the reload, a viewer now placed in DE: %d, want 404", got)
	}
	// Lifting the rule applies at once.
	if code, b := s.api(t, "PATCH", "/api/v1/channels/de-only", `{"geo":{}}`); code != 200 {
		t.Fatalf("patch: %d %s", code, b)
	}
	if got := from("/live/de-only/master.m3u8", "198.51.100.1"); got != 404 {
		t.Errorf("after lifting the rule: %d", got)
	}
}
