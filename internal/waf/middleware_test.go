package waf

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCheapMode(t *testing.T) {
	f := newFixture(t, Config{IPRate: Limit{Rate: -1}, TokenRate: Limit{Rate: -1}})
	ua := []string{"User-Agent: " + browserUA}
	for _, tc := range []struct {
		name   string
		req    req
		status int
	}{
		{"segment", req{method: "GET", target: "/live/news/720p30/1842.m4s"}, 200},
		{"part head", req{method: "HEAD", target: "/live/news/720p30/1842.2.m4s"}, 200},
		{"init with token", req{method: "GET", target: "/live/news/720p30/init.mp4?onair_token=eyJhIjoxfQ.c2ln.k1"}, 200},
		// A scanner user agent is a full-mode signal only: segments skip
		// the rules by design.
		{"segment, scanner agent", req{method: "GET", target: "/live/news/720p30/1.m4s", headers: []string{"User-Agent: sqlmap/1.8"}}, 200},
		{"traversal ending like a segment", req{method: "GET", target: "/live/news/../../../etc/passwd%00.m4s"}, 403},
		{"encoded slash", req{method: "GET", target: "/live/news%2f720p30/1.m4s"}, 403},
		{"unknown param", req{method: "GET", target: "/live/news/720p30/1.m4s?id=1%27%20OR%201=1"}, 403},
		{"post to segment", req{method: "POST", target: "/live/news/720p30/1.m4s", body: "x"}, 403},
		{"overlong", req{method: "GET", target: "/live/news/720p30/" + strings.Repeat("9", 600) + ".m4s"}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.requests(ModeCheap)
			tc.req.headers = append(tc.req.headers, ua...)
			res := f.do(t, tc.req)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d (body %q)", res.status, tc.status, res.body)
			}
			if f.requests(ModeCheap) != before+1 {
				t.Errorf("not counted as cheap")
			}
			if tc.status == 403 {
				id, ok := strings.CutPrefix(strings.TrimSpace(res.body), "forbidden (request id ")
				if !ok {
					t.Fatalf("body %q names no request id", res.body)
				}
				line := logLine(t, f.log.String(), "request_id="+strings.TrimSuffix(id, ")"))
				if !strings.Contains(line, "reason=url_shape") {
					t.Errorf("log line lacks reason=url_shape: %s", line)
				}
			}
		})
	}
	if got := f.blocked(reasonURLShape); got != 5 {
		t.Errorf("onair_waf_blocked_total{reason=url_shape} = %v, want 5", got)
	}
	if got := f.requests(ModeFull); got != 0 {
		t.Errorf("onair_waf_requests_total{mode=full} = %v, want 0", got)
	}
	if !strings.Contains(f.log.String(), "reason=url_shape") {
		t.Errorf("no url_shape log line:\n%s", f.log.String())
	}
}

func TestRateLimitIP(t *testing.T) {
	clock := newFakeClock()
	f := newFixture(t, Config{
		IPRate:    Limit{Rate: 2, Burst: 3},
		TokenRate: Limit{Rate: -1},
		Now:       clock.Now,
		// The fixture's connections all come from 127.0.0.1; the test
		// names the client in a header.
		ClientIP: func(r *http.Request) (netip.Addr, bool) {
			a, err := netip.ParseAddr(r.Header.Get("X-Test-Client"))
			return a, err == nil
		},
	})
	segment := req{method: "GET", target: "/live/news/720p30/1.m4s"}
	api := req{method: "GET", target: "/api/v1/channels", headers: []string{"User-Agent: " + browserUA, "Accept: */*"}}
	var peer string
	expect := func(r req, status int, retry string) {
		t.Helper()
		r.headers = append(r.headers[:len(r.headers):len(r.headers)], "X-Test-Client: "+peer)
		res := f.do(t, r)
		if res.status != status {
			t.Fatalf("client %s: status %d, want %d", peer, res.status, status)
		}
		if got := res.header.Get("Retry-After"); got != retry {
			t.Errorf("Retry-After %q, want %q", got, retry)
		}
	}
	peer = "198.51.100.7"
	expect(segment, 200, "")
	expect(api, 200, "") // both modes share the address's budget
	expect(segment, 200, "")
	expect(segment, 429, "1")
	expect(api, 429, "1")
	// Another client is not affected.
	peer = "198.51.100.8"
	expect(segment, 200, "")
	// Half a second earns one token back at 2/s.
	peer = "198.51.100.7"
	clock.Advance(500 * time.Millisecond)
	expect(segment, 200, "")
	expect(segment, 429, "1")
	// An idle client is back to its full burst.
	clock.Advance(time.Minute)
	for range 3 {
		expect(segment, 200, "")
	}
	expect(segment, 429, "1")

	// IPv6 clients are limited per /64.
	peer = "2001:db8:1:2::1"
	for range 3 {
		expect(segment, 200, "")
	}
	peer = "2001:db8:1:2:ffff::2"
	expect(segment, 429, "1")
	peer = "2001:db8:1:3::1"
	expect(segment, 200, "")
	// A client that cannot be placed is not limited by address.
	peer = "unknown"
	for range 5 {
		expect(segment, 200, "")
	}

	if got := f.blocked(reasonRateIP); got != 5 {
		t.Errorf("onair_waf_blocked_total{reason=rate_ip} = %v, want 5", got)
	}
	// One log line per run of refusals: 198.51.100.7 was refused in three
	// runs, the IPv6 /64 in one.
	if n := strings.Count(f.log.String(), "reason=rate_ip"); n != 4 {
		t.Errorf("%d rate_ip log lines, want 4:\n%s", n, f.log.String())
	}
	line := logLine(t, f.log.String(), "client_ip=2001:db8:1:2:ffff::2")
	for _, want := range []string{"msg=\"waf rate limited client\"", "status=429", "retry_after_s=1", "method=GET", "path=/live/news/720p30/1.m4s"} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %q: %s", want, line)
		}
	}
}

func TestRateLimitToken(t *testing.T) {
	clock := newFakeClock()
	f := newFixture(t, Config{
		IPRate:    Limit{Rate: -1},
		TokenRate: Limit{Rate: 1, Burst: 2},
		Now:       clock.Now,
	})
	ua := "User-Agent: " + browserUA
	byParam := req{method: "GET", target: "/live/news/720p30/1.m4s?onair_token=tok.A.k1", headers: []string{ua}}
	byCookie := req{method: "GET", target: "/live/news/720p30/index.m3u8", headers: []string{ua, "Cookie: onair_token=tok.A.k1"}}
	other := req{method: "GET", target: "/live/news/720p30/1.m4s?onair_token=tok.B.k1", headers: []string{ua}}
	bearer := req{method: "GET", target: "/api/v1/channels", headers: []string{ua, "Authorization: Bearer operator"}}
	none := req{method: "GET", target: "/live/news/720p30/1.m4s", headers: []string{ua}}
	for i, tc := range []struct {
		r      req
		status int
	}{
		{byParam, 200}, {byCookie, 200}, {byParam, 429}, {byCookie, 429},
		{other, 200}, {other, 200}, {other, 429},
		{bearer, 200}, {bearer, 200}, {bearer, 429},
		{none, 200}, {none, 200}, {none, 200}, {none, 200},
	} {
		res := f.do(t, tc.r)
		if res.status != tc.status {
			t.Fatalf("request %d (%s %v): status %d, want %d", i, tc.r.target, tc.r.headers, res.status, tc.status)
		}
		if tc.status == 429 && res.header.Get("Retry-After") != "1" {
			t.Errorf("request %d: Retry-After %q, want 1", i, res.header.Get("Retry-After"))
		}
	}
	clock.Advance(time.Second)
	if res := f.do(t, byParam); res.status != 200 {
		t.Errorf("after 1 s: status %d, want 200", res.status)
	}
	if got := f.blocked(reasonRateToken); got != 4 {
		t.Errorf("onair_waf_blocked_total{reason=rate_token} = %v, want 4", got)
	}
	if strings.Contains(f.log.String(), "tok.A") {
		t.Errorf("log repeats a token:\n%s", f.log.String())
	}
}

func TestRetryAfterRoundsUp(t *testing.T) {
	clock := newFakeClock()
	f := newFixture(t, Config{IPRate: Limit{Rate: 0.25, Burst: 1}, TokenRate: Limit{Rate: -1}, Now: clock.Now})
	r := req{method: "GET", target: "/live/news/720p30/1.m4s"}
	f.do(t, r)
	clock.Advance(time.Second) // 0.25 of a token back; 3 s to go
	if res := f.do(t, r); res.status != 429 || res.header.Get("Retry-After") != "3" {
		t.Fatalf("status %d Retry-After %q, want 429 and 3", res.status, res.header.Get("Retry-After"))
	}
	clock.Advance(2500 * time.Millisecond) // 0.5 s to go: rounds up to 1
	if res := f.do(t, r); res.status != 429 || res.header.Get("Retry-After") != "1" {
		t.Fatalf("status %d Retry-After %q, want 429 and 1", res.status, res.header.Get("Retry-After"))
	}
}

func TestRequestBody(t *testing.T) {
	f := newFixture(t, Config{RequestBodyLimit: 64, IPRate: Limit{Rate: -1}, TokenRate: Limit{Rate: -1}})
	headers := []string{"User-Agent: Go-http-client/1.1", "Content-Type: application/json"}
	small := `{"name":"news","ladder":["720p30"]}`
	exact := `{"name":"newsx","ladder":["1080p30","720p30","480p30","360p30"]}` // 64 bytes: the limit
	large := `{"name":"news","ladder":["1080p30","720p30","480p30","360p30","240p30"]}`
	if res := f.do(t, req{method: "POST", target: "/api/v1/channels", headers: headers, body: small}); res.status != 200 {
		t.Fatalf("small body: status %d", res.status)
	}
	if got := <-f.seen; got != small {
		t.Errorf("handler read %q, want %q", got, small)
	}
	if len(exact) != 64 {
		t.Fatalf("exact body is %d bytes", len(exact))
	}
	if res := f.do(t, req{method: "POST", target: "/api/v1/channels", headers: headers, body: exact}); res.status != 200 {
		t.Fatalf("body at the limit: status %d", res.status)
	}
	if got := <-f.seen; got != exact {
		t.Errorf("handler read %q, want %q", got, exact)
	}
	res := f.do(t, req{method: "POST", target: "/api/v1/channels", headers: headers, body: large})
	if res.status != 413 || !strings.Contains(res.body, "request id") {
		t.Fatalf("large body: status %d body %q, want 413 with a request id", res.status, res.body)
	}
	// A chunked body has no Content-Length to refuse early.
	res = f.doChunked(t, "/api/v1/channels", headers, large)
	if res.status != 413 {
		t.Fatalf("large chunked body: status %d, want 413", res.status)
	}
	res = f.doChunked(t, "/api/v1/channels", headers, small)
	if res.status != 200 {
		t.Fatalf("small chunked body: status %d, want 200", res.status)
	}
	if got := <-f.seen; got != small {
		t.Errorf("handler read %q, want %q", got, small)
	}
	if got := f.blocked(reasonBodySize); got != 2 {
		t.Errorf("onair_waf_blocked_total{reason=body_size} = %v, want 2", got)
	}
	// A JSON endpoint's body that is not JSON is refused by Coraza's
	// body-parser rule with 400.
	res = f.do(t, req{method: "POST", target: "/keys/license", headers: headers[:1], body: `{"kids":[`})
	if res.status != 400 {
		t.Fatalf("unparsable license body: status %d, want 400", res.status)
	}
	if !strings.Contains(f.log.String(), "rule_id=200002") {
		t.Errorf("log lacks rule 200002:\n%s", f.log.String())
	}
	select {
	case b := <-f.seen:
		t.Errorf("a refused body reached the handler: %q", b)
	default:
	}
}

// doChunked posts body with Transfer-Encoding: chunked.
func (f *fixture) doChunked(t *testing.T, target string, headers []string, body string) resp {
	t.Helper()
	conn, err := net.DialTimeout("tcp", f.srv.Listener.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	b.WriteString("POST " + target + " HTTP/1.1\r\nHost: onair.example\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	for i := 0; i < len(body); i += 16 {
		c := body[i:min(i+16, len(body))]
		b.WriteString(strings.ToUpper(strconvHex(len(c))) + "\r\n" + c + "\r\n")
	}
	b.WriteString("0\r\n\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	rb, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: string(rb)}
}

func strconvHex(n int) string {
	const digits = "0123456789abcdef"
	if n < 16 {
		return digits[n : n+1]
	}
	return strconvHex(n/16) + digits[n%16:n%16+1]
}

func TestDisabled(t *testing.T) {
	w, err := New(Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	called := false
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
	h := w.Middleware(next)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/channels?id=1'%20OR%20'1'='1", nil))
	if !called || rec.Code != 200 {
		t.Fatalf("disabled WAF: handler called %v, status %d", called, rec.Code)
	}
	if w.engine != nil {
		t.Error("disabled WAF compiled the rules")
	}
}

func TestDirectives(t *testing.T) {
	// Extra directives come after the core rule set: here a rule of our
	// own and an exclusion of a CRS rule.
	f := newFixture(t, Config{
		IPRate: Limit{Rate: -1}, TokenRate: Limit{Rate: -1},
		Directives: `SecRule REQUEST_HEADERS:X-Test "@streq deny-me" "id:1090,phase:1,deny,status:403,log,msg:'test rule'"
SecRuleRemoveById 913100`,
	})
	ua := "User-Agent: " + browserUA
	if res := f.do(t, req{method: "GET", target: "/api/v1/channels", headers: []string{ua, "X-Test: deny-me"}}); res.status != 403 {
		t.Errorf("own rule: status %d, want 403", res.status)
	}
	if !strings.Contains(f.log.String(), "rule_id=1090") || !strings.Contains(f.log.String(), `rule_msg="test rule"`) {
		t.Errorf("log lacks the own rule:\n%s", f.log.String())
	}
	if res := f.do(t, req{method: "GET", target: "/api/v1/channels", headers: []string{"User-Agent: sqlmap/1.8"}}); res.status != 200 {
		t.Errorf("removed rule 913100: status %d, want 200", res.status)
	}
	if _, err := New(Config{Enabled: true, Directives: "SecRule NOPE"}, nil, nil); err == nil {
		t.Error("New accepted broken directives")
	}
}

func TestParanoiaAndThreshold(t *testing.T) {
	// A lone notice-level match (2 points) passes at threshold 5 and is
	// refused at threshold 2.
	// No User-Agent: rule 920320, a notice at paranoia level 2.
	r := req{method: "GET", target: "/api/v1/channels", headers: []string{"Accept: */*"}}
	for _, tc := range []struct {
		paranoia, threshold int
		status              int
	}{
		{1, 0, 200}, // 920320 is not run at level 1
		{2, 0, 200}, // 2 points < 5
		{2, 2, 403},
	} {
		f := newFixture(t, Config{Paranoia: tc.paranoia, AnomalyThreshold: tc.threshold, IPRate: Limit{Rate: -1}, TokenRate: Limit{Rate: -1}})
		if res := f.do(t, r); res.status != tc.status {
			t.Errorf("paranoia %d threshold %d: status %d, want %d\n%s", tc.paranoia, tc.threshold, res.status, tc.status, f.log.String())
		}
		if tc.status == 403 && !strings.Contains(f.log.String(), "rules=[920320]") {
			t.Errorf("log lacks rule 920320:\n%s", f.log.String())
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Paranoia: 5}, "paranoia 5"},
		{Config{Paranoia: -1}, "paranoia -1"},
		{Config{AnomalyThreshold: -3}, "anomaly threshold"},
		{Config{RequestBodyLimit: -1}, "request body limit"},
		{Config{RequestBodyLimit: 2 << 30}, "request body limit"},
		{Config{IPRate: Limit{Rate: 5}}, "ip rate: burst 0"},
		{Config{TokenRate: Limit{Rate: 5, Burst: -2}}, "token rate: burst -2"},
		{Config{MaxClients: -1}, "max clients"},
		{Config{CheapParams: []string{"a b"}}, "cheap param"},
		{Config{Paranoia: 9, MaxClients: -1}, "max clients"}, // every problem is reported
	} {
		_, err := New(tc.cfg, nil, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error with %q", tc.cfg, err, tc.want)
		}
	}
	w, err := New(Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Paranoia: 1, AnomalyThreshold: 5, RequestBodyLimit: 1 << 20,
		IPRate: Limit{100, 200}, TokenRate: Limit{20, 60}, MaxClients: 100000}
	got := w.cfg
	if got.Paranoia != want.Paranoia || got.AnomalyThreshold != want.AnomalyThreshold || got.RequestBodyLimit != want.RequestBodyLimit ||
		got.IPRate != want.IPRate || got.TokenRate != want.TokenRate || got.MaxClients != want.MaxClients {
		t.Errorf("defaults %+v, want %+v", got, want)
	}
}

func TestMetricsRegistered(t *testing.T) {
	f := newFixture(t, Config{TokenRate: Limit{Rate: -1}})
	f.do(t, req{method: "GET", target: "/live/news/720p30/1.m4s"})
	f.do(t, req{method: "GET", target: "/live/news/master.m3u8", headers: []string{"User-Agent: " + browserUA, "Accept: */*"}})
	const want = `
# HELP onair_waf_requests_total Requests the WAF checked, by mode (full: core rule set; cheap: URL shape and rate limits).
# TYPE onair_waf_requests_total counter
onair_waf_requests_total{mode="cheap"} 1
onair_waf_requests_total{mode="full"} 1
# HELP onair_waf_tracked_clients Entries in a rate-limit table (limit: ip, token), computed at scrape time.
# TYPE onair_waf_tracked_clients gauge
onair_waf_tracked_clients{limit="ip"} 1
`
	if err := testutil.GatherAndCompare(f.reg, strings.NewReader(want), "onair_waf_requests_total", "onair_waf_tracked_clients"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(f.reg, "onair_waf_blocked_total"); err != nil || n != 5 {
		t.Errorf("onair_waf_blocked_total has %d series (%v), want 5 (every reason at zero)", n, err)
	}
	// Two WAFs cannot share a registry's metric names.
	if _, err := New(Config{}, nil, f.reg); err == nil {
		t.Error("second WAF on the same registry: no error")
	}
}
