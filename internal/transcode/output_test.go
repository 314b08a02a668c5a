package transcode

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"onair/internal/stream"
)

// TestPipelineOutputRefusesRendition: when the Output refuses one ladder
// rendition, ffmpeg keeps running (its pipe is drained) and the others
// are complete. It also checks the metrics on a shared registry.
func TestPipelineOutputRefusesRendition(t *testing.T) {
	c := makeClip(t, 2)
	reg := prometheus.NewRegistry()
	// Another channel's pipeline on the same registry must not conflict.
	other, err := stream.New(stream.Config{Grid: testGrid})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewPipeline("other", Config{Grid: testGrid}, other, newFakeOutput(), nil, reg); err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	h := startPipelineLog(t, Config{Passthrough: true}, newTextLogger(&logs), reg)
	h.out.mu.Lock()
	h.out.fail["240p30"] = true
	h.out.mu.Unlock()
	pub, walls := mustPublish(t, h.st, c, 0, nil)
	pub.Close()
	h.out.waitFor(t, "sinks closed", 20*time.Second, func() bool { return h.out.allClosed("source", "audio", "120p15") })
	sess := pub.Session()
	recs := h.out.get("120p15")
	if len(recs) != 1 {
		t.Fatalf("120p15 opened %d times", len(recs))
	}
	checkLadderRecording(t, recs[0], sess.Mapping.Anchor, 15, walls, sess.Mapping.Offset,
		func(pts int64) bool { return pts < firstVideoPTS(c)+sess.Mapping.Offset })
	if !strings.Contains(logs.String(), `msg="output refused rendition" role=transcode rendition=240p30`) {
		t.Errorf("refusal not logged:\n%s", logs.String())
	}
	if st := h.p.Status(); st.Restarts != 0 {
		t.Errorf("restarts %d", st.Restarts)
	}

	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got[mf.GetName()+labels(m)] = value(m)
		}
	}
	want := map[string]float64{
		`onair_transcode_frames_total{channel="test",rendition="source"}`: 60,
		`onair_transcode_frames_total{channel="test",rendition="120p15"}`: float64(len(recs[0].units)),
		`onair_transcode_restarts_total{channel="test"}`:                  0,
		`onair_transcode_restarts_total{channel="other"}`:                 0,
		`onair_transcode_up{channel="test"}`:                              0,
		`onair_transcode_speed{channel="test"}`:                           0,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if _, ok := got[`onair_transcode_frames_total{channel="test",rendition="240p30"}`]; ok {
		t.Error("frames counted for the refused rendition")
	}
}

func labels(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+`="`+l.GetValue()+`"`)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return -1
}
