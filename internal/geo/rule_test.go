package geo

import (
	"slices"
	"strings"
	"testing"
)

func TestRulePermits(t *testing.T) {
	type check struct {
		iso    string
		known  bool
		ok     bool
		reason string
	}
	cases := []struct {
		name   string
		rule   Rule
		checks []check
	}{
		{
			name: "zero rule restricts nothing",
			rule: Rule{},
			checks: []check{
				{"DE", true, true, ReasonUnrestricted},
				{"", false, true, ReasonUnrestricted},
			},
		},
		{
			name: "explicit unknown=allow with no lists restricts nothing",
			rule: Rule{Unknown: UnknownAllow},
			checks: []check{
				{"DE", true, true, ReasonUnrestricted},
				{"", false, true, ReasonUnrestricted},
			},
		},
		{
			name: "unknown=deny alone refuses only unknown clients",
			rule: Rule{Unknown: UnknownDeny},
			checks: []check{
				{"DE", true, true, ReasonUnrestricted},
				{"", false, false, ReasonUnknown},
			},
		},
		{
			name: "allow list",
			rule: Rule{Allow: []string{"DE", "AT", "CH"}},
			checks: []check{
				{"DE", true, true, ReasonAllowed},
				{"CH", true, true, ReasonAllowed},
				{"de", true, true, ReasonAllowed},
				{"US", true, false, ReasonNotAllowed},
				{"", false, false, ReasonUnknown},   // default: deny unknown
				{"DE", false, false, ReasonUnknown}, // known=false wins over iso
				{"D", true, false, ReasonUnknown},   // not a code: unknown
				{"", true, false, ReasonUnknown},
			},
		},
		{
			name: "allow list, unknown allowed",
			rule: Rule{Allow: []string{"DE"}, Unknown: UnknownAllow},
			checks: []check{
				{"DE", true, true, ReasonAllowed},
				{"FR", true, false, ReasonNotAllowed},
				{"", false, true, ReasonUnknown},
			},
		},
		{
			name: "deny list",
			rule: Rule{Deny: []string{"RU", "KP"}},
			checks: []check{
				{"RU", true, false, ReasonDenied},
				{"kp", true, false, ReasonDenied},
				{"DE", true, true, ReasonNotDenied},
				{"", false, true, ReasonUnknown}, // default: allow unknown
			},
		},
		{
			name: "deny list, unknown denied",
			rule: Rule{Deny: []string{"RU"}, Unknown: UnknownDeny},
			checks: []check{
				{"RU", true, false, ReasonDenied},
				{"DE", true, true, ReasonNotDenied},
				{"", false, false, ReasonUnknown},
			},
		},
		{
			name: "deny is checked before allow",
			rule: Rule{Allow: []string{"DE", "FR"}, Deny: []string{"FR"}},
			checks: []check{
				{"DE", true, true, ReasonAllowed},
				{"FR", true, false, ReasonDenied},
			},
		},
		{
			name: "user-assigned codes match literally",
			rule: Rule{Deny: []string{"XX", "EU"}},
			checks: []check{
				{"XX", true, false, ReasonDenied},
				{"EU", true, false, ReasonDenied},
				{"", false, true, ReasonUnknown}, // unknown is not "XX"
			},
		},
		{
			name: "unnormalized entries: case ignored, junk never matches",
			rule: Rule{Allow: []string{"de", " FR", "USA"}},
			checks: []check{
				{"DE", true, true, ReasonAllowed},
				{"FR", true, false, ReasonNotAllowed},
				{"US", true, false, ReasonNotAllowed},
			},
		},
		{
			name: "invalid unknown value fails closed",
			rule: Rule{Deny: []string{"RU"}, Unknown: "maybe"},
			checks: []check{
				{"", false, false, ReasonUnknown},
				{"DE", true, true, ReasonNotDenied},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range tc.checks {
				ok, reason := tc.rule.Permits(c.iso, c.known)
				if ok != c.ok || reason != c.reason {
					t.Errorf("%v.Permits(%q, %v) = %v, %q; want %v, %q", tc.rule, c.iso, c.known, ok, reason, c.ok, c.reason)
				}
			}
			// A normalized rule decides the same (the invalid ones don't normalize).
			if n, err := tc.rule.Normalize(); err == nil {
				for _, c := range tc.checks {
					if ok, reason := n.Permits(c.iso, c.known); ok != c.ok || reason != c.reason {
						t.Errorf("normalized %v.Permits(%q, %v) = %v, %q; want %v, %q", n, c.iso, c.known, ok, reason, c.ok, c.reason)
					}
				}
			}
		})
	}
}

func TestRuleNormalize(t *testing.T) {
	cases := []struct {
		name    string
		rule    Rule
		want    Rule
		wantErr []string // substrings of the error, all reported at once
	}{
		{name: "zero", rule: Rule{}, want: Rule{Unknown: UnknownAllow}},
		{
			name: "allow: upper, sorted, deduplicated, unknown defaults to deny",
			rule: Rule{Allow: []string{"fr", "DE", "de", "At"}},
			want: Rule{Allow: []string{"AT", "DE", "FR"}, Unknown: UnknownDeny},
		},
		{
			name: "deny: unknown defaults to allow",
			rule: Rule{Deny: []string{"ru", "XX"}},
			want: Rule{Deny: []string{"RU", "XX"}, Unknown: UnknownAllow},
		},
		{
			name: "explicit unknown kept",
			rule: Rule{Allow: []string{"DE"}, Unknown: UnknownAllow},
			want: Rule{Allow: []string{"DE"}, Unknown: UnknownAllow},
		},
		{
			name: "allow and deny without overlap",
			rule: Rule{Allow: []string{"DE", "FR"}, Deny: []string{"US"}},
			want: Rule{Allow: []string{"DE", "FR"}, Deny: []string{"US"}, Unknown: UnknownDeny},
		},
		{
			name:    "every problem at once",
			rule:    Rule{Allow: []string{"DEU", "fr", "1A"}, Deny: []string{"", "Fr", "é"}, Unknown: "Deny"},
			wantErr: []string{`allow: "DEU", "1A": not a two-letter country code`, `deny: "", "é": not a two-letter country code`, `unknown: "Deny" is neither "allow" nor "deny"`},
		},
		{
			name:    "code both allowed and denied",
			rule:    Rule{Allow: []string{"de", "fr", "us"}, Deny: []string{"FR", "US"}},
			wantErr: []string{"FR,US both allowed and denied"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.rule.Normalize()
			if verr := tc.rule.Validate(); (verr == nil) != (err == nil) {
				t.Errorf("Validate() = %v but Normalize() error = %v", verr, err)
			}
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Normalize() = %v, nil; want an error", got)
				}
				if !strings.HasPrefix(err.Error(), "geo rule: ") {
					t.Errorf("error %q does not start with %q", err, "geo rule: ")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize(): %v", err)
			}
			if !slices.Equal(got.Allow, tc.want.Allow) || !slices.Equal(got.Deny, tc.want.Deny) || got.Unknown != tc.want.Unknown {
				t.Errorf("Normalize() = %v, want %v", got, tc.want)
			}
		})
	}
}

// parseListCases feed TestParseList and the seeds of FuzzParseList.
var parseListCases = []struct {
	in      string
	want    []string
	wantErr string
}{
	{in: "", want: nil},
	{in: " , ,", want: nil},
	{in: "DE", want: []string{"DE"}},
	{in: "DE,FR", want: []string{"DE", "FR"}},
	{in: "de, fr ,US", want: []string{"DE", "FR", "US"}},
	{in: "US DE\tFR\nAT", want: []string{"AT", "DE", "FR", "US"}},
	{in: "fr,FR,Fr", want: []string{"FR"}},
	{in: "DE,,FR,", want: []string{"DE", "FR"}},
	{in: "XX,ZZ", want: []string{"XX", "ZZ"}},
	{in: "DEU", wantErr: `"DEU"`},
	{in: "DE;FR", wantErr: `"DE;FR"`},
	{in: "D1,FR,A", wantErr: `"D1", "A": not a two-letter country code`},
	{in: "ÄÖ", wantErr: `"ÄÖ"`},
	{in: "\x00\x01", wantErr: `"\x00\x01"`},
}

func TestParseList(t *testing.T) {
	for _, tc := range parseListCases {
		got, err := ParseList(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "parse country list: ") {
				t.Errorf("ParseList(%q) = %q, %v; want an error mentioning %s", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseList(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
