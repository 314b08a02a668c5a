package license

import (
	"fmt"
	"strings"
	"testing"
)

// clearKeyCases feed both TestParseClearKeyRequest and the fuzz seeds.
var clearKeyCases = []struct {
	name string
	body string
	want []string // hex key IDs; nil: error
}{
	{"one", `{"kids":["ABEiM0RVZneImaq7zN3u_w"],"type":"temporary"}`, []string{"00112233445566778899aabbccddeeff"}},
	{"no type", `{"kids":["ABEiM0RVZneImaq7zN3u_w"]}`, []string{"00112233445566778899aabbccddeeff"}},
	{"two, whitespace", " {\n \"type\" : \"temporary\", \"kids\" : [ \"ABEiM0RVZneImaq7zN3u_w\" , \"Dw4NDAsKCQgHBgUEAwIBAA\" ] }\n",
		[]string{"00112233445566778899aabbccddeeff", "0f0e0d0c0b0a09080706050403020100"}},
	{"duplicate", `{"kids":["ABEiM0RVZneImaq7zN3u_w","ABEiM0RVZneImaq7zN3u_w"]}`, []string{"00112233445566778899aabbccddeeff"}},
	{"url alphabet", `{"kids":["_-_-_-_-_-_-_-_-_-_-_w"]}`, []string{"ffeffeffeffeffeffeffeffeffeffeff"}},
	{"extra member ignored", `{"kids":["ABEiM0RVZneImaq7zN3u_w"],"x":{"y":[1,2]}}`, []string{"00112233445566778899aabbccddeeff"}},
	{"empty", ``, nil},
	{"null", `null`, nil},
	{"array", `["ABEiM0RVZneImaq7zN3u_w"]`, nil},
	{"truncated", `{"kids":["ABEiM0RVZneImaq7zN3u_w"`, nil},
	{"trailing data", `{"kids":["ABEiM0RVZneImaq7zN3u_w"]}{}`, nil},
	{"no kids", `{"type":"temporary"}`, nil},
	{"empty kids", `{"kids":[]}`, nil},
	{"kids not array", `{"kids":"ABEiM0RVZneImaq7zN3u_w"}`, nil},
	{"kid not string", `{"kids":[7]}`, nil},
	{"padded", `{"kids":["ABEiM0RVZneImaq7zN3u_w=="]}`, nil},
	{"standard alphabet", `{"kids":["ABEiM0RVZneImaq7zN3u/w"]}`, nil},
	{"non-canonical last char", `{"kids":["ABEiM0RVZneImaq7zN3u_x"]}`, nil},
	{"short", `{"kids":["ABEiM0RVZneImaq7zN3u"]}`, nil},
	{"32-byte kid", `{"kids":["ABEiM0RVZneImaq7zN3u_wABEiM0RVZneImaq7zN3u_w"]}`, nil},
	{"persistent", `{"kids":["ABEiM0RVZneImaq7zN3u_w"],"type":"persistent-license"}`, nil},
	{"type not string", `{"kids":["ABEiM0RVZneImaq7zN3u_w"],"type":1}`, nil},
	{"too many", `{"kids":[` + manyKids(5) + `]}`, nil},
	{"max", `{"kids":[` + manyKids(4) + `]}`, []string{
		"00000000000000000000000000000000", "01000000000000000000000000000000",
		"02000000000000000000000000000000", "03000000000000000000000000000000"}},
}

// testMaxKids is the kid limit of the parser tests.
const testMaxKids = 4

// manyKids returns n distinct quoted key IDs separated by commas.
func manyKids(n int) string {
	s := make([]string, n)
	for i := range s {
		var k [16]byte
		k[0] = byte(i)
		s[i] = `"` + b64(k[:]) + `"`
	}
	return strings.Join(s, ",")
}

func TestParseClearKeyRequest(t *testing.T) {
	for _, tc := range clearKeyCases {
		t.Run(tc.name, func(t *testing.T) {
			kids, err := parseClearKeyRequest([]byte(tc.body), testMaxKids)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("accepted: %x", kids)
				}
				if strings.Contains(err.Error(), "ABEiM0") {
					t.Errorf("error repeats the input: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range kids {
				got = append(got, fmt.Sprintf("%x", k))
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("kids %v, want %v", got, tc.want)
			}
		})
	}
}

// pathCases feed both TestParsePath and the fuzz seeds.
var pathCases = []struct {
	path    string
	kind    string // "" no match
	channel string
	kid     string
}{
	{"/license/news/clearkey", kindClearKey, "news", ""},
	{"/license/a/clearkey", kindClearKey, "a", ""},
	{"/license/news-2/aes128/00112233445566778899aabbccddeeff", kindAES128, "news-2", "00112233445566778899aabbccddeeff"},
	{"/license/news/aes128/00112233445566778899AABBCCDDEEFF", kindAES128, "news", "00112233445566778899aabbccddeeff"},
	{"/license/" + strings.Repeat("a", 63) + "/clearkey", kindClearKey, strings.Repeat("a", 63), ""},
	{"/license/" + strings.Repeat("a", 64) + "/clearkey", "", "", ""},
	{"/license/news/clearkey/", "", "", ""},
	{"/license/news/clearkey?x", "", "", ""},
	{"/license//clearkey", "", "", ""},
	{"/license/news", "", "", ""},
	{"/license/", "", "", ""},
	{"/license", "", "", ""},
	{"/licence/news/clearkey", "", "", ""},
	{"/license/News/clearkey", "", "", ""},
	{"/license/-news/clearkey", "", "", ""},
	{"/license/../clearkey", "", "", ""},
	{"/license/news/../sports/clearkey", "", "", ""},
	{"/license/news%2Fa/clearkey", "", "", ""},
	{"/license/news/aes128/", "", "", ""},
	{"/license/news/aes128/00112233445566778899aabbccddeef", "", "", ""},
	{"/license/news/aes128/00112233445566778899aabbccddeeff0", "", "", ""},
	{"/license/news/aes128/0011223344556677-899aabbccddeeff", "", "", ""},
	{"/license/news/aes128/00112233445566778899aabbccddeeff/", "", "", ""},
	{"/license/news/aes128/00112233-4455-6677-8899-aabbccddeeff", "", "", ""},
	{"/license/news/AES128/00112233445566778899aabbccddeeff", "", "", ""},
	{"/license/news/clearkey.json", "", "", ""},
}

func TestParsePath(t *testing.T) {
	for _, tc := range pathCases {
		rt, ok := parsePath(DefaultPrefix, tc.path)
		if ok != (tc.kind != "") {
			t.Errorf("%s: ok %v", tc.path, ok)
			continue
		}
		if !ok {
			continue
		}
		if rt.kind != tc.kind || rt.channel != tc.channel || (tc.kid != "" && fmt.Sprintf("%x", rt.kid) != tc.kid) ||
			(tc.kid == "" && rt.kid != [16]byte{}) {
			t.Errorf("%s: %+v", tc.path, rt)
		}
	}
}
