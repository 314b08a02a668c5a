package waf

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Log flood bounds: an attack that is refused thousands of times a
// second must not flood the log. Beyond them lines are counted, and the
// count is reported on the next line logged.
const (
	logRate  = 10 // lines per second
	logBurst = 50
	clipLen  = 256 // longest logged path, message or data
)

// refuse answers a blocked request: status with a short plain body naming
// a request id (the same id is in the log line, so an operator can find
// why; the client learns nothing about the rules), counted by reason.
func (w *WAF) refuse(rw http.ResponseWriter, r *http.Request, client netip.Addr, status int, reason string, attrs ...slog.Attr) {
	w.metrics.blocked.WithLabelValues(reason).Inc()
	id := requestID()
	var text string
	switch status {
	case http.StatusRequestEntityTooLarge:
		text = "request body too large"
	case http.StatusBadRequest:
		text = "bad request"
	default:
		text = "forbidden"
	}
	writeText(rw, status, text+" (request id "+id+")\n")
	w.logRefusal(r, client, "waf blocked request", id, reason, status, attrs...)
}

// limited answers a rate-limited request: 429 with Retry-After in whole
// seconds. Only a client's first refusal in a row is logged.
func (w *WAF) limited(rw http.ResponseWriter, r *http.Request, client netip.Addr, reason string, v verdict) {
	w.metrics.blocked.WithLabelValues(reason).Inc()
	secs := max(1, int64((v.retry+time.Second-1)/time.Second))
	rw.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	writeText(rw, http.StatusTooManyRequests, "too many requests\n")
	if v.first {
		w.logRefusal(r, client, "waf rate limited client", "", reason, http.StatusTooManyRequests,
			slog.Int64("retry_after_s", secs))
	}
}

// logRefusal writes one warning about a refused request, unless the
// throttle holds it back.
func (w *WAF) logRefusal(r *http.Request, client netip.Addr, msg, id, reason string, status int, attrs ...slog.Attr) {
	suppressed, ok := w.logs.allow(w.cfg.Now())
	if !ok {
		return
	}
	all := make([]slog.Attr, 0, 8+len(attrs))
	if id != "" {
		all = append(all, slog.String("request_id", id))
	}
	all = append(all,
		slog.String("reason", reason),
		slog.Int("status", status),
		slog.String("client_ip", ipAttr(client)),
		slog.String("method", clip(r.Method)),
		slog.String("path", clip(r.URL.Path)))
	all = append(all, attrs...)
	if suppressed > 0 {
		all = append(all, slog.Int64("suppressed", suppressed))
	}
	w.log.LogAttrs(r.Context(), slog.LevelWarn, msg, all...)
}

// writeText writes a plain-text response that no cache keeps.
func writeText(rw http.ResponseWriter, status int, body string) {
	h := rw.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	rw.WriteHeader(status)
	_, _ = rw.Write([]byte(body))
}

// requestID returns 16 random hex digits.
func requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}

// ipAttr is a client address for a log line.
func ipAttr(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	return a.String()
}

// clip bounds a client-controlled string in a log line.
func clip(s string) string {
	if len(s) > clipLen {
		return s[:clipLen] + "..."
	}
	return s
}

// logThrottle is a token bucket for log lines that counts what it holds
// back. Safe for concurrent use.
type logThrottle struct {
	mu         sync.Mutex
	tokens     float64
	last       time.Time
	suppressed int64
}

func newLogThrottle() *logThrottle {
	return &logThrottle{tokens: logBurst}
}

// allow reports whether a line may be logged at now and, if so, how many
// were held back since the last one.
func (t *logThrottle) allow(now time.Time) (suppressed int64, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.last.IsZero() {
		if d := now.Sub(t.last); d > 0 {
			t.tokens = min(logBurst, t.tokens+d.Seconds()*logRate)
		}
	}
	if now.After(t.last) {
		t.last = now
	}
	if t.tokens < 1 {
		t.suppressed++
		return 0, false
	}
	t.tokens--
	suppressed, t.suppressed = t.suppressed, 0
	return suppressed, true
}
