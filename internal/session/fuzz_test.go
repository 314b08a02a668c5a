package session

import (
	"regexp"
	"strings"
	"testing"
)

var (
	idRE     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	tenantRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

// idCases feed both the table test and the fuzz seeds.
var idCases = []struct {
	in   string
	want bool
}{
	{"a", true},
	{"q8cH3kq2Tg6t1v2Qv0xWzA", true},
	{"A-b_9", true},
	{strings.Repeat("z", 64), true},
	{"", false},
	{strings.Repeat("z", 65), false},
	{"a.b", false},
	{"a b", false},
	{"*", false},
	{">", false},
	{"é", false},
	{"a/b", false},
	{"a\x00", false},
}

func TestValidID(t *testing.T) {
	for _, tc := range idCases {
		if got := ValidID(tc.in); got != tc.want {
			t.Errorf("ValidID(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	seen := map[string]bool{}
	for range 100 {
		id := NewID()
		if !ValidID(id) || len(id) != 22 || seen[id] {
			t.Fatalf("NewID() = %q: invalid, not 22 characters, or repeated", id)
		}
		seen[id] = true
	}
}

func FuzzValidID(f *testing.F) {
	for _, tc := range idCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := ValidID(id), idRE.MatchString(id); got != want {
			t.Fatalf("ValidID(%q) = %v, regexp says %v", id, got, want)
		}
	})
}

// keyCases feed both the table test and the fuzz seeds.
var keyCases = []struct {
	key                 string
	tenant, channel, id string
	ok                  bool
}{
	{"acme.news.s1", "acme", "news", "s1", true},
	{"_.news.s1", "", "news", "s1", true},
	{"a-1.b-2.Z_-9", "a-1", "b-2", "Z_-9", true},
	{".news.s1", "", "", "", false},
	{"acme.news", "", "", "", false},
	{"acme.news.s1.x", "", "", "", false},
	{"acme..s1", "", "", "", false},
	{"Acme.news.s1", "", "", "", false},
	{"acme.news.*", "", "", "", false},
	{"acme.>", "", "", "", false},
	{"__.news.s1", "", "", "", false},
	{"dek.20260301", "", "", "", false},
	{"", "", "", "", false},
}

func TestParseKey(t *testing.T) {
	for _, tc := range keyCases {
		tenant, channel, id, ok := parseKey(tc.key)
		if ok != tc.ok || tenant != tc.tenant || channel != tc.channel || id != tc.id {
			t.Errorf("parseKey(%q) = %q, %q, %q, %v; want %q, %q, %q, %v", tc.key, tenant, channel, id, ok, tc.tenant, tc.channel, tc.id, tc.ok)
		}
		if tc.ok {
			if k := kvKey(tc.tenant, tc.channel, tc.id); k != tc.key {
				t.Errorf("kvKey(%q, %q, %q) = %q, want %q", tc.tenant, tc.channel, tc.id, k, tc.key)
			}
		}
	}
}

func FuzzParseKey(f *testing.F) {
	for _, tc := range keyCases {
		f.Add(tc.key)
	}
	f.Fuzz(func(t *testing.T, key string) {
		tenant, channel, id, ok := parseKey(key)
		if !ok {
			return
		}
		if tenant != "" && !tenantRE.MatchString(tenant) || !tenantRE.MatchString(channel) || !idRE.MatchString(id) {
			t.Fatalf("parseKey(%q) accepted %q, %q, %q", key, tenant, channel, id)
		}
		if back := kvKey(tenant, channel, id); back != key {
			t.Fatalf("kvKey(parseKey(%q)) = %q", key, back)
		}
		if !strings.HasPrefix(key, strings.TrimSuffix(channelFilter(tenant, channel), "*")) {
			t.Fatalf("key %q outside its channel filter %q", key, channelFilter(tenant, channel))
		}
	})
}

func FuzzParseDayID(f *testing.F) {
	for _, s := range []string{"20260301", "20261231", "20260230", "1999123", "2026030a", "19991231", "+0260301", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		day, ok := parseDayID(id)
		if ok && dayID(day) != id {
			t.Fatalf("parseDayID(%q) = %v, which is day %q", id, day, dayID(day))
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add("_.news.a", []byte(`{"v":1,"id":"a","tenant":"","channel":"news","dek":"20260301","pii":"AAAA"}`))
	f.Add("acme.news.a", []byte(`{"v":1,"id":"a","tenant":"acme","channel":"news","dek":"20260301"}`))
	f.Add("_.news.a", []byte(`{"v":2,"id":"a","channel":"news","dek":"20260301"}`))
	f.Add("_.news.a", []byte(`{"v":1,"id":"b","channel":"news","dek":"20260301"}`))
	f.Add("_.news.a", []byte(`{"v":1,"id":"a","channel":"news","dek":"x"}`))
	f.Add("_.news.a", []byte(`null`))
	f.Fuzz(func(t *testing.T, key string, data []byte) {
		r, err := decodeRecord(key, data)
		if err != nil {
			return
		}
		if kvKey(r.Tenant, r.Channel, r.ID) != key || checkKey(r.Tenant, r.Channel, r.ID) != nil || !validDayID(r.DEK) {
			t.Fatalf("decodeRecord(%q) accepted %+v", key, r)
		}
	})
}
