package control

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

var bearerCases = []struct {
	header string
	token  string
	ok     bool
}{
	{"Bearer abc", "abc", true},
	{"bearer abc", "abc", true},
	{"BEARER abc", "abc", true},
	{"Bearer   abc", "abc", true},
	{"Bearer", "", false},
	{"Bearer ", "", false},
	{"Bearer    ", "", false},
	{"Bearerabc", "", false},
	{"Basic abc", "", false},
	{"Bearer a b", "", false},
	{"Bearer a\tb", "", false},
	{"", "", false},
	{"Béarer abc", "", false},
}

func TestBearerToken(t *testing.T) {
	for _, tc := range bearerCases {
		token, ok := bearerToken(tc.header)
		if token != tc.token || ok != tc.ok {
			t.Errorf("bearerToken(%q) = %q, %v; want %q, %v", tc.header, token, ok, tc.token, tc.ok)
		}
	}
}

func FuzzBearerToken(f *testing.F) {
	for _, tc := range bearerCases {
		f.Add(tc.header)
	}
	f.Fuzz(func(t *testing.T, header string) {
		token, ok := bearerToken(header)
		if !ok {
			if token != "" {
				t.Errorf("bearerToken(%q) = %q with ok=false", header, token)
			}
			return
		}
		if token == "" || strings.ContainsAny(token, " \t") {
			t.Errorf("bearerToken(%q) = %q", header, token)
		}
		if !strings.HasSuffix(header, token) {
			t.Errorf("bearerToken(%q) = %q, not the header's end", header, token)
		}
		if again, ok := bearerToken("Bearer " + token); !ok || again != token {
			t.Errorf("round trip of %q = %q, %v", token, again, ok)
		}
	})
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:1": true, "127.255.0.3:80": true, "[::1]:1": true, "[::ffff:127.0.0.1]:1": true,
		"10.0.0.1:1": false, "[::2]:1": false, "0.0.0.0:1": false, "localhost:1": false, "": false, "127.0.0.1": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestAuthTokenCompare(t *testing.T) {
	a := newAuth("right-token", nil, newMetricsForTest(t).authFailures)
	for tok, want := range map[string]bool{"right-token": true, "right-toke": false, "right-token2": false, "": false} {
		if got := a.validToken(tok); got != want {
			t.Errorf("validToken(%q) = %v, want %v", tok, got, want)
		}
	}
	if a.validCookie("") || a.validCookie("right-token") || !a.validCookie(a.cookie) {
		t.Error("validCookie accepts the wrong values")
	}
}

func newMetricsForTest(t *testing.T) *metrics {
	t.Helper()
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return m
}
