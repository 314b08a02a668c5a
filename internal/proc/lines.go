package proc

// lineSplitter cuts a byte stream into lines on '\n' and '\r' (ffmpeg
// redraws its progress line with '\r'). Empty lines are skipped and a line
// longer than maxLine is cut to maxLine bytes, the rest discarded.
type lineSplitter struct {
	line     []byte
	overlong bool
}

func (s *lineSplitter) write(b []byte, emit func(string)) {
	for _, c := range b {
		switch {
		case c == '\n' || c == '\r':
			s.flush(emit)
		case s.overlong:
		case len(s.line) >= maxLine:
			s.overlong = true
		default:
			s.line = append(s.line, c)
		}
	}
}

// flush emits the pending partial line, if any.
func (s *lineSplitter) flush(emit func(string)) {
	if len(s.line) > 0 {
		emit(string(s.line))
	}
	s.line = s.line[:0]
	s.overlong = false
}
