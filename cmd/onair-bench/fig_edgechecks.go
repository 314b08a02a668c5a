package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"onair/internal/signing"
)

// figEdgeChecks measures what the viewer access checks cost at the edge:
// the same `onair edge` binary in front of the same in-process origin,
// once with nothing to check and once with a signed-cookie token on every
// request, a country rule looked up in a MaxMind-format database and the
// WAF (full rule set for playlists, cheap checks for segments).
func (b *bench) figEdgeChecks(ctx context.Context) (*section, error) {
	dir := filepath.Join(b.tmp, "edgechecks")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("edgechecks: %w", err)
	}
	d := time.Duration(min(10, b.seconds)) * time.Second
	objs := []*edgeObject{
		{what: "segment (1 MiB)", path: "/live/x/v/5.m4s", ctype: "video/iso.segment", body: edgeSegment(1 << 20)},
		{what: "media playlist (1 KB)", path: "/live/x/v/index.m3u8", ctype: "application/vnd.apple.mpegurl", body: edgePlaylist(1024)},
	}
	origin, err := startEdgeOrigin(objs)
	if err != nil {
		return nil, fmt.Errorf("edgechecks: %w", err)
	}
	defer origin.Close()

	// The checked edge's key, token, country database and configuration.
	pub := filepath.Join(dir, "ed25519.pub.pem")
	if _, err := signing.GenerateKeyFiles(filepath.Join(dir, "ed25519.pem"), pub); err != nil {
		return nil, fmt.Errorf("edgechecks: %w", err)
	}
	priv, err := signing.LoadPrivateKey(filepath.Join(dir, "ed25519.pem"))
	if err != nil {
		return nil, fmt.Errorf("edgechecks: %w", err)
	}
	signer, err := signing.NewSigner("k1", priv)
	if err != nil {
		return nil, fmt.Errorf("edgechecks: %w", err)
	}
	tok, err := signer.Sign(signing.Policy{Resource: "/live/*", Expires: time.Now().Add(time.Hour), Session: "bench"})
	if err != nil {
		return nil, fmt.Errorf("edgechecks: %w", err)
	}
	cookie := "Cookie: " + signing.CookieName + "=" + tok
	db := filepath.Join(dir, "country.mmdb")
	if err := writeCountryDB(db, "127.0.0.0/8", "DE"); err != nil {
		return nil, fmt.Errorf("edgechecks: %w", err)
	}
	cfgFile := filepath.Join(dir, "edge.yaml")
	cfg := fmt.Sprintf("edge:\n  signing_keys: {k1: %q}\n  signed_prefixes: [/live/]\n  geo_database: %q\n"+
		"  geo_rules:\n    - {prefix: /live/, allow: [DE]}\n"+
		"waf: {enabled: true, ip_rate: 1000000000, token_rate: 1000000000}\n", pub, db)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		return nil, fmt.Errorf("edgechecks: %w", err)
	}

	type variant struct {
		name    string
		argv    []string
		headers []string
		base    string
		runs    []wrkResult // by object
	}
	vs := []*variant{{name: "off"}, {name: "on: signed cookie + geo + WAF", headers: []string{cookie}}}
	for i, v := range vs {
		port, err := freePort("tcp")
		if err != nil {
			return nil, fmt.Errorf("edgechecks: %w", err)
		}
		v.base = fmt.Sprintf("http://127.0.0.1:%d", port)
		v.argv = []string{b.onair, "edge", "--listen", strings.TrimPrefix(v.base, "http://"),
			"--upstream", "http://" + origin.Addr().String(), "--cache-mib", "256", "--log-level", "warn"}
		if i == 1 {
			v.argv = append(v.argv, "--config", cfgFile)
		}
		p, err := b.procs.start(fmt.Sprintf("onair-edge-%d", i), v.argv, startOpts{})
		if err != nil {
			return nil, fmt.Errorf("edgechecks: %w", err)
		}
		defer p.stop(10 * time.Second)
		client := &http.Client{Timeout: 5 * time.Second}
		for _, o := range objs {
			err := poll(ctx, 15*time.Second, 50*time.Millisecond, "onair edge", func() (bool, error) {
				if p.exited() {
					return false, fmt.Errorf("onair edge exited:\n%s", p.tail(10))
				}
				code, h := getWith(ctx, client, v.base+o.path, v.headers)
				return code == http.StatusOK && h.Get("X-Cache") == "HIT", nil
			})
			if err != nil {
				return nil, fmt.Errorf("edgechecks: %s: %w", v.name, err)
			}
		}
		if i == 1 {
			// The checks are really on: no token, or a client outside
			// the allowed country, is refused.
			if code, _ := getWith(ctx, client, v.base+objs[0].path, nil); code != http.StatusForbidden {
				return nil, fmt.Errorf("edgechecks: checked edge without a token: HTTP %d, want 403", code)
			}
			if code, _ := getWith(ctx, client, v.base+objs[1].path+"?q=%27%20OR%201=1--", v.headers); code != http.StatusForbidden {
				return nil, fmt.Errorf("edgechecks: checked edge let an SQL injection through: HTTP %d", code)
			}
		}
	}
	for _, o := range objs {
		for _, v := range vs {
			b.progress("edgechecks: wrk %s on checks %s", o.path, v.name)
			res, err := runWrk(ctx, b.procs, v.base+o.path, d, v.headers...)
			if err != nil {
				return nil, fmt.Errorf("edgechecks: %w", err)
			}
			v.runs = append(v.runs, res)
		}
	}

	sec := &section{
		title: "11. Edge access checks on and off (wrk)",
		measures: "Cache-hit requests per second through the same `onair edge` in front of the same in-process origin " +
			"(figure 5's), once with no checks and once with every request carrying a signed-cookie token " +
			"(Ed25519, verified once per token then cached; expiry and path checked on every request), a country " +
			"rule looked up in a MaxMind-format database for the client address, and the WAF on (segments: URL " +
			"shape and per-address and per-token rate limits, set high enough never to refuse; playlists: the " +
			"full OWASP core rule set). Before measuring, the bench checks the checked edge refuses a request " +
			"without a token and an SQL injection. wrk competes for the same 2 cores. Goal: under 10 % cost for " +
			"segment requests.",
		commands: []string{
			"# origin: in-process net/http serving " + objs[0].path + " and " + objs[1].path + " from memory",
			shellQuote(vs[0].argv),
			shellQuote(vs[1].argv) + "   # edge.yaml: signing_keys, signed_prefixes [/live/], geo_database, geo_rules [/live/ allow DE], waf",
			shellQuote(wrkArgs("http://127.0.0.1:PORT/PATH", d, "Cookie: onair_token=TOKEN")) + "   # once per (edge, object)",
		},
	}
	t := newTable("object", "checks", "req/s", "MB/s", "p50", "p99", "errors", "cost")
	var parts []string
	for i, o := range objs {
		off := vs[0].runs[i].RPS
		for _, v := range vs {
			r := v.runs[i]
			cost := "—"
			if v != vs[0] {
				cost = pct(1 - r.RPS/off)
			}
			t.add(o.what, v.name, fmt.Sprintf("%.0f", r.RPS), fmt.Sprintf("%.1f", r.TransferBps/1e6),
				dur(r.P50), dur(r.P99), fmt.Sprint(r.Non2xx+r.SocketErrs), cost)
		}
		parts = append(parts, fmt.Sprintf("%s: %s fewer requests/s with the checks on", o.what, pct(1-vs[1].runs[i].RPS/off)))
	}
	sec.tables = append(sec.tables, t)
	verdict := "goal met"
	if vs[1].runs[0].RPS < 0.9*vs[0].runs[0].RPS {
		verdict = "goal not met"
	}
	sec.reading = strings.Join(parts, "; ") + " (segments: " + verdict + ")."
	return sec, nil
}

// getWith GETs url with headers ("Name: value"); 0 on a transport error.
func getWith(ctx context.Context, c *http.Client, url string, headers []string) (int, http.Header) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header
}

// writeCountryDB writes a GeoLite2-Country-format database placing cidr
// in country iso.
func writeCountryDB(path, cidr, iso string) error {
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-Country", RecordSize: 24, IncludeReservedNetworks: true,
		Description: map[string]string{"en": "onair bench"}})
	if err != nil {
		return err
	}
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		return err
	}
	if err := w.Insert(n, mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(iso)}}); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := w.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
