package transcode

import (
	"log/slog"

	"onair/internal/media"
)

// sinkWriter wraps one open Sink: it tracks open renditions for Status and
// turns a failing Sink into one log line instead of one per frame.
type sinkWriter struct {
	p      *Pipeline
	name   string
	sink   Sink
	failed bool
}

// openSink opens a rendition on the Output. It returns nil (after logging)
// when the Output refuses it.
func (p *Pipeline) openSink(r Rendition) *sinkWriter {
	sk, err := p.out.Open(p.channel, r)
	if err != nil {
		p.log.Error("output refused rendition", "rendition", r.Name, "err", err)
		return nil
	}
	p.setOpen(r.Name, true)
	return &sinkWriter{p: p, name: r.Name, sink: sk}
}

// write hands u to the Sink and reports whether it was accepted. After
// the first error the Sink is closed and later units are dropped.
func (w *sinkWriter) write(u *media.Unit) bool {
	if w.failed {
		return false
	}
	if err := w.sink.Write(*u); err != nil {
		w.p.log.Error("output write failed; rendition stopped until the next session or restart", "rendition", w.name, "err", err)
		w.failed = true
		w.close()
		return false
	}
	return true
}

func (w *sinkWriter) close() {
	if w.sink == nil {
		return
	}
	if err := w.sink.Close(); err != nil {
		w.p.log.Warn("closing output failed", slog.String("rendition", w.name), slog.Any("err", err))
	}
	w.sink = nil
	w.p.setOpen(w.name, false)
}

// abort ends the Sink without completing its unfinished segment, when the
// Sink can (Aborter); otherwise it closes it.
func (w *sinkWriter) abort() {
	if w.sink == nil {
		return
	}
	a, ok := w.sink.(Aborter)
	if !ok {
		w.close()
		return
	}
	if err := a.Abort(); err != nil {
		w.p.log.Warn("aborting output failed", slog.String("rendition", w.name), slog.Any("err", err))
	}
	w.sink = nil
	w.p.setOpen(w.name, false)
}
