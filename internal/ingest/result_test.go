package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/stream"
)

func TestResultOf(t *testing.T) {
	tests := []struct {
		err  error
		want Result
	}{
		{Rejectf(ResultStalled, "no data"), ResultStalled},
		{fmt.Errorf("route: %w", ErrUnknownKey), ResultUnknownKey},
		{fmt.Errorf("publish: %w", stream.ErrBusy), ResultBusy},
		{fmt.Errorf("x: %w", ErrNoKeyframe), ResultNoKeyframe},
		{UnsupportedCodec("audio", "MP3"), ResultUnsupportedCodec},
		{io.EOF, ResultError},
	}
	for _, tt := range tests {
		if got := ResultOf(tt.err); got != tt.want {
			t.Errorf("ResultOf(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func TestUnsupportedCodecSaysWhatIsSupported(t *testing.T) {
	tests := []struct{ kind, name, want string }{
		{"audio", "MP3", "unsupported audio codec MP3 (supported: AAC)"},
		{"video", "VP6", "unsupported video codec VP6 (supported: H.264, H.265)"},
		{"", "\"vvc1\"", "unsupported codec \"vvc1\" (supported: video H.264, H.265, audio AAC)"},
	}
	for _, tt := range tests {
		if got := UnsupportedCodec(tt.kind, tt.name).Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestMetricsShareOneRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewMetrics(reg)
	if err != nil {
		t.Fatalf("second NewMetrics on one registry: %v", err)
	}
	a.Count("rtmp", ResultBusy)
	b.Count("rtmp", ResultBusy)
	if got := counter(t, a.Connections.WithLabelValues("rtmp", "busy")); got != 2 {
		t.Fatalf("shared counter = %v, want 2", got)
	}
}

func TestFinishLogsOnce(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantLevel string
		wantCount string // result counted, "" for none
	}{
		{name: "refused", err: Rejectf(ResultUnknownKey, "stream key ab***: %w", ErrUnknownKey), wantLevel: "WARN", wantCount: "unknown_key"},
		{name: "disconnect before publishing", err: fmt.Errorf("%w: publisher disconnected", ErrEnded), wantLevel: "WARN", wantCount: "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, nil))
			m, _ := NewMetrics(nil)
			Finish(log, m, Conn{Protocol: "rtmp", Remote: "127.0.0.1:5", Channel: "news"}, tt.err)
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("%d log lines: %q", len(lines), buf.String())
			}
			for _, want := range []string{"level=" + tt.wantLevel, "remote=127.0.0.1:5", "channel=news", "result=" + tt.wantCount} {
				if !strings.Contains(lines[0], want) {
					t.Errorf("log line %q lacks %q", lines[0], want)
				}
			}
			if got := counter(t, m.Connections.WithLabelValues("rtmp", tt.wantCount)); got != 1 {
				t.Errorf("counted %v", got)
			}
		})
	}
}

func TestRedactKey(t *testing.T) {
	for in, want := range map[string]string{"": "***", "abcd": "***", "secret-key": "se***", "ключик": "кл***"} {
		if got := RedactKey(in); got != want {
			t.Errorf("RedactKey(%q) = %q, want %q", in, got, want)
		}
	}
	if errors.Is(Reject(ResultBusy, io.EOF), io.EOF) != true {
		t.Error("Rejection does not unwrap")
	}
}
