package proc

import "strings"

// tail keeps the last lines written to it, bounded both in lines and in
// bytes. The zero value is not usable; use newTail.
type tail struct {
	maxLines, maxBytes int
	lines              []string
	bytes              int
}

func newTail(maxLines, maxBytes int) *tail {
	return &tail{maxLines: maxLines, maxBytes: maxBytes}
}

// add appends a line (without its terminator), truncating one that alone
// exceeds the byte bound and evicting the oldest lines as needed.
func (t *tail) add(line string) {
	if len(line) > t.maxBytes {
		line = line[:t.maxBytes]
	}
	t.lines = append(t.lines, line)
	t.bytes += len(line) + 1
	for len(t.lines) > t.maxLines || (t.bytes > t.maxBytes && len(t.lines) > 1) {
		t.bytes -= len(t.lines[0]) + 1
		t.lines[0] = ""
		t.lines = t.lines[1:]
	}
}

func (t *tail) String() string { return strings.Join(t.lines, "\n") }
