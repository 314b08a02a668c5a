package httprange

import "testing"

var cases = []struct {
	header string
	size   int64
	res    Result
	want   Range
}{
	{"", 100, None, Range{}},
	{"bytes=0-9", 100, Partial, Range{0, 9}},
	{"bytes=90-", 100, Partial, Range{90, 99}},
	{"bytes=-10", 100, Partial, Range{90, 99}},
	{"bytes=-1000", 100, Partial, Range{0, 99}},
	{"bytes=50-5000", 100, Partial, Range{50, 99}},
	{"bytes= 0-9", 100, Partial, Range{0, 9}},
	{"bytes=0-0,5-6", 100, None, Range{}},
	{"bytes=100-", 100, Unsatisfiable, Range{}},
	{"bytes=-0", 100, Unsatisfiable, Range{}},
	{"bytes=0-", 0, Unsatisfiable, Range{}},
	{"bytes=-5", 0, Unsatisfiable, Range{}},
	{"bytes=5-1", 100, Unsatisfiable, Range{}},
	{"bytes=a-b", 100, Unsatisfiable, Range{}},
	{"bytes=-", 100, Unsatisfiable, Range{}},
	{"bytes=5", 100, Unsatisfiable, Range{}},
	{"bytes=+1-2", 100, Unsatisfiable, Range{}},
	{"octets=0-1", 100, Unsatisfiable, Range{}},
}

func TestParse(t *testing.T) {
	for _, tc := range cases {
		r, res := Parse(tc.header, tc.size)
		if res != tc.res || res == Partial && r != tc.want {
			t.Errorf("Parse(%q, %d) = %+v %d, want %+v %d", tc.header, tc.size, r, res, tc.want, tc.res)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range cases {
		f.Add(tc.header, tc.size)
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			return
		}
		r, res := Parse(h, size)
		if res == Partial && (r.Start < 0 || r.Start > r.End || r.End >= size) {
			t.Fatalf("Parse(%q, %d) = %+v outside the object", h, size, r)
		}
	})
}
