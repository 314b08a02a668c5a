package signing

import (
	"strings"
	"testing"
)

// policyCases feed TestParsePolicy and FuzzParsePolicy's seeds: the
// verifier accepts exactly the canonical form.
var policyCases = []struct {
	json string
	ok   bool
}{
	{`{"expires":1767229200,"resource":"/live/news/*"}`, true},
	{`{"channel":"news","expires":1767229200,"ip":"203.0.113.0/24","not_before":1767225600,"resource":"/live/news/*","session":"s-1","tenant":"acme"}`, true},
	{`{"expires":1767229200,"ip":"2001:db8::/32","resource":"/*"}`, true},
	{`{"expires":1,"resource":"/"}`, true},
	{`{"expires":999999999999,"resource":"/"}`, true},

	{``, false},
	{`{}`, false},
	{`{"expires":1767229200}`, false},
	{`{"resource":"/live/news/*"}`, false},
	{`{"resource":"/live/news/*","expires":1767229200}`, false},                // order
	{`{"expires":1767229200,"expires":1767229200,"resource":"/"}`, false},      // duplicate
	{`{ "expires":1767229200,"resource":"/"}`, false},                          // whitespace
	{`{"expires":1767229200,"resource":"/"} `, false},                          // trailing
	{`{"expires":1767229200,"resource":"/"},`, false},                          // trailing
	{`{"expires":1767229200,"resource":"/",}`, false},                          // trailing comma
	{`{"expires":01767229200,"resource":"/"}`, false},                          // leading zero
	{`{"expires":0,"resource":"/"}`, false},                                    // zero
	{`{"expires":-1,"resource":"/"}`, false},                                   // sign
	{`{"expires":1767229200.0,"resource":"/"}`, false},                         // fraction
	{`{"expires":1e9,"resource":"/"}`, false},                                  // exponent
	{`{"expires":"1767229200","resource":"/"}`, false},                         // string
	{`{"expires":1000000000000,"resource":"/"}`, false},                        // 13 digits
	{`{"expires":1767229200,"resource":"\/live"}`, false},                      // escape
	{`{"expires":1767229200,"resource":"/live/\u002a"}`, false},                // escape
	{`{"expires":1767229200,"resource":"live"}`, false},                        // relative
	{`{"expires":1767229200,"resource":"/a/../b"}`, false},                     // dot segment
	{`{"expires":1767229200,"resource":"/","session":""}`, false},              // empty optional
	{`{"expires":1767229200,"resource":"/","session":null}`, false},            // null
	{`{"expires":1767229200,"resource":"/","tenant":"a b"}`, false},            // space
	{`{"expires":1767229200,"resource":"/","geo":"FR"}`, false},                // unknown
	{`{"expires":1767229200,"ip":"203.0.113.1/24","resource":"/"}`, false},     // host bits
	{`{"expires":1767229200,"ip":"203.0.113.1","resource":"/"}`, false},        // no bits
	{`{"expires":1767229200,"ip":"2001:DB8::/32","resource":"/"}`, false},      // upper case
	{`{"expires":1767229200,"ip":"2001:0db8::/32","resource":"/"}`, false},     // leading zero
	{`{"expires":1767229200,"ip":"::ffff:1.2.3.0/120","resource":"/"}`, false}, // mapped
	{`{"expires":1767229200,"not_before":1767229200,"resource":"/"}`, false},   // nb == exp
	{`{"expires":1767229200,"not_before":1767229300,"resource":"/"}`, false},   // nb > exp
}

func TestParsePolicy(t *testing.T) {
	for _, tc := range policyCases {
		p, ok := parsePolicy(tc.json)
		if ok != tc.ok {
			t.Errorf("parsePolicy(%s) ok = %v, want %v", tc.json, ok, tc.ok)
			continue
		}
		if ok {
			if got := string(appendPolicy(nil, p)); got != tc.json {
				t.Errorf("parsePolicy(%s) re-encodes as %s", tc.json, got)
			}
		}
	}
}

func TestParsePolicyOversizeField(t *testing.T) {
	long := `{"expires":1767229200,"resource":"/","session":"` + strings.Repeat("s", maxField+1) + `"}`
	if _, ok := parsePolicy(long); ok {
		t.Error("accepted a 65-byte session")
	}
}
