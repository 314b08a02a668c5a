package waf

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchRequest returns a request as a browser player sends it.
func benchRequest(method, target, body string) *http.Request {
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	r.RequestURI = target
	for _, h := range []string{"User-Agent: " + browserUA, "Accept: */*", "Accept-Encoding: gzip, deflate, br, zstd",
		"Accept-Language: en-US,en;q=0.9", "Origin: https://player.example", "Referer: https://player.example/watch",
		"Sec-Fetch-Dest: empty", "Sec-Fetch-Mode: cors", "Sec-Fetch-Site: cross-site"} {
		k, v, _ := strings.Cut(h, ": ")
		r.Header.Set(k, v)
	}
	return r
}

// benchWAF is an enabled WAF whose limits are on but never reached.
func benchWAF(b *testing.B, enabled bool) http.Handler {
	w, err := New(Config{Enabled: enabled, IPRate: Limit{Rate: 1e12, Burst: 1 << 30}, TokenRate: Limit{Rate: 1e12, Burst: 1 << 30}}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	return w.Middleware(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(http.StatusOK) }))
}

func benchServe(b *testing.B, h http.Handler, newReq func() *http.Request) {
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newReq())
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkFullPlaylist is a blocking playlist reload with a token,
// checked by the core rule set.
func BenchmarkFullPlaylist(b *testing.B) {
	h := benchWAF(b, true)
	r := benchRequest("GET", "/live/news/720p30/index.m3u8?_HLS_msn=1842&_HLS_part=3&onair_token="+testToken(b, 1), "")
	benchServe(b, h, func() *http.Request { return r })
}

// BenchmarkFullAPIPost is a channel creation with a JSON body.
func BenchmarkFullAPIPost(b *testing.B) {
	h := benchWAF(b, true)
	const body = `{"name":"news","ladder":["720p30"]}`
	benchServe(b, h, func() *http.Request { return benchRequest("POST", "/api/v1/channels", body) })
}

// BenchmarkCheapSegment is a part request with a token: URL shape and
// rate limits only.
func BenchmarkCheapSegment(b *testing.B) {
	h := benchWAF(b, true)
	r := benchRequest("GET", "/live/news/720p30/1842.3.m4s?onair_token="+testToken(b, 1), "")
	benchServe(b, h, func() *http.Request { return r })
}

// BenchmarkDisabled is the same part request through a disabled WAF.
func BenchmarkDisabled(b *testing.B) {
	h := benchWAF(b, false)
	r := benchRequest("GET", "/live/news/720p30/1842.3.m4s?onair_token="+testToken(b, 1), "")
	benchServe(b, h, func() *http.Request { return r })
}
