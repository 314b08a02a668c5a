package proc

import (
	"strings"
	"testing"
)

var lineCases = []struct {
	name   string
	chunks []string
	want   []string
}{
	{name: "plain", chunks: []string{"a\nb\n"}, want: []string{"a", "b"}},
	{name: "split across writes", chunks: []string{"hel", "lo\nwor", "ld"}, want: []string{"hello", "world"}},
	{name: "carriage returns", chunks: []string{"frame=1\rframe=2\r\n"}, want: []string{"frame=1", "frame=2"}},
	{name: "empty lines skipped", chunks: []string{"\n\n\r\nx\n\n"}, want: []string{"x"}},
	{name: "overlong cut", chunks: []string{strings.Repeat("y", maxLine+10) + "\nz"}, want: []string{strings.Repeat("y", maxLine), "z"}},
}

func split(chunks []string) []string {
	var out []string
	var s lineSplitter
	emit := func(l string) { out = append(out, l) }
	for _, c := range chunks {
		s.write([]byte(c), emit)
	}
	s.flush(emit)
	return out
}

func TestLineSplitter(t *testing.T) {
	for _, tt := range lineCases {
		t.Run(tt.name, func(t *testing.T) {
			got := split(tt.chunks)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzLineSplitter(f *testing.F) {
	for _, tt := range lineCases {
		f.Add(strings.Join(tt.chunks, ""), 3)
	}
	f.Fuzz(func(t *testing.T, in string, cut int) {
		if cut < 0 {
			cut = -cut
		}
		chunks := []string{in}
		if cut < len(in) {
			chunks = []string{in[:cut], in[cut:]}
		}
		got := split(chunks)
		for _, l := range got {
			if l == "" || len(l) > maxLine || strings.ContainsAny(l, "\r\n") {
				t.Fatalf("bad line %q", l)
			}
		}
		// Splitting must not depend on where the input was cut.
		if whole := split([]string{in}); strings.Join(whole, "\n") != strings.Join(got, "\n") {
			t.Fatalf("cut at %d changed the result: %q vs %q", cut, got, whole)
		}
	})
}

func TestTailBounds(t *testing.T) {
	tests := []struct {
		name               string
		maxLines, maxBytes int
		add                []string
		want               string
	}{
		{name: "lines", maxLines: 2, maxBytes: 100, add: []string{"a", "b", "c"}, want: "b\nc"},
		{name: "bytes", maxLines: 10, maxBytes: 6, add: []string{"aa", "bb", "cc"}, want: "bb\ncc"},
		{name: "one huge line", maxLines: 10, maxBytes: 4, add: []string{"a", "123456789"}, want: "1234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := newTail(tt.maxLines, tt.maxBytes)
			for _, l := range tt.add {
				tl.add(l)
			}
			if got := tl.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
