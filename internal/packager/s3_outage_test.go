package packager

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/live"
	"onair/internal/media"
	"onair/internal/objstore"
	"onair/internal/objstore/miniotest"
)

// metricValue sums the samples of a counter or gauge family as /metrics
// would show it.
func metricValue(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue next
				}
			}
			v += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return v
}

// A real S3 server (MinIO) goes away for a few seconds while the packager
// produces video and audio: the outage shows in the metrics, nothing is
// dropped, and once the server is back every object the packager produced
// is in the bucket, byte for byte, and the stored video decodes whole.
// Nothing here is faked: real encoders, a real S3 server process.
func TestS3OutageLosesNothing(t *testing.T) {
	const seconds = 10 // segments 100..104
	aus := encodeVideo(t, "libx264", "320x180", seconds, 30, 60)
	frames, asc := encodeAAC(t, seconds, 48000)
	video := videoUnits(aus, 30, anchorSeg*segTicks)
	audio := audioUnits(frames, 48000, anchorSeg*segTicks)

	srv := miniotest.Start(t)
	s3reg := prometheus.NewRegistry()
	s3, err := objstore.NewS3(objstore.S3Config{Endpoint: srv.Endpoint, Bucket: "media", Prefix: "onair",
		AccessKey: miniotest.AccessKey, SecretKey: miniotest.SecretKey}, s3reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s3.EnsureBucket(t.Context()); err != nil {
		t.Fatal(err)
	}
	// An index that keeps every segment's bytes in memory: what the
	// packager produced, to compare with what reached S3.
	reg := prometheus.NewRegistry()
	index := live.NewIndex(seconds)
	p, err := New(Config{Grid: testGrid}, s3, index, slog.New(slog.DiscardHandler), reg)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{p: p, store: s3, index: index, reg: reg}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.p.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	vr := videoRendition("360p30", 30)
	ar := Rendition{Name: "audio", Track: media.Track{Kind: media.KindAudio, Codec: media.CodecAAC, AudioConfig: asc}, Mapping: vr.Mapping}
	vt, err := f.p.Open("ch", vr)
	if err != nil {
		t.Fatal(err)
	}
	at, err := f.p.Open("ch", ar)
	if err != nil {
		t.Fatal(err)
	}
	// feed writes the media of channel seconds [from, to) of both tracks.
	feed := func(from, to int) {
		t.Helper()
		lo, hi := anchorSeg*segTicks+int64(from)*media.Timescale, anchorSeg*segTicks+int64(to)*media.Timescale
		for _, w := range []struct {
			tr    *Track
			units []media.Unit
		}{{vt, video}, {at, audio}} {
			for _, u := range w.units {
				if u.DTS >= lo && u.DTS < hi {
					if err := w.tr.Write(u); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}

	feed(0, 2)
	if q := f.p.w.queuedBytes(); q != 0 {
		t.Fatalf("%d bytes queued while S3 is up", q)
	}
	partsBefore := metricValue(t, reg, "onair_packager_parts_total", nil)

	// Outage: about 2.5 s of wall time during which the packager keeps
	// producing (one channel second every 500 ms) and retries fail.
	srv.Stop(t)
	outage := time.Now()
	for sec := 2; sec < 6; sec++ {
		feed(sec, sec+1)
		time.Sleep(500 * time.Millisecond) // paces the producer
	}
	queued := metricValue(t, f.reg, "onair_storage_retry_queue_bytes", nil)
	if queued == 0 {
		t.Fatal("onair_storage_retry_queue_bytes is 0 during the outage")
	}
	if n := metricValue(t, reg, "onair_packager_parts_total", nil) - partsBefore; n < 10 {
		t.Fatalf("only %v parts produced during the outage", n)
	}
	if got := metricValue(t, f.reg, "onair_storage_errors_total", map[string]string{"op": "put"}); got == 0 {
		t.Error("onair_storage_errors_total{op=put} is 0 during the outage")
	}
	if got := metricValue(t, s3reg, "onair_storage_s3_requests_total", map[string]string{"op": "put", "result": "error"}); got == 0 {
		t.Error(`onair_storage_s3_requests_total{op="put",result="error"} is 0 during the outage`)
	}
	// Viewers are served from memory meanwhile.
	ch, _ := f.index.Lookup("ch")
	lr, _ := ch.Lookup("360p30")
	if _, ok := lr.Data(anchorSeg+2, 0); !ok {
		t.Error("a segment produced during the outage is not in memory")
	}

	srv.Restart(t)
	t.Logf("S3 down for %v with %.0f bytes queued", time.Since(outage).Round(100*time.Millisecond), queued)
	feed(6, seconds)
	for _, tr := range []*Track{vt, at} {
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// The retry queue drains (backoff is at most a few seconds here).
	deadline := time.Now().Add(20 * time.Second)
	for f.p.w.queuedBytes() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("retry queue still holds %d bytes 20 s after S3 came back", f.p.w.queuedBytes())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := metricValue(t, f.reg, "onair_storage_retry_queue_bytes", nil); got != 0 {
		t.Errorf("onair_storage_retry_queue_bytes = %v after recovery", got)
	}
	if got := metricValue(t, f.reg, "onair_storage_retry_dropped_objects_total", nil); got != 0 {
		t.Errorf("%v objects dropped from the retry queue", got)
	}

	// Every object the packager produced (init, every segment and part of
	// both renditions, as the live index holds them) is in S3, byte for
	// byte, and nothing else is.
	produced := map[string][]byte{}
	for _, name := range []string{"360p30", "audio"} {
		r, _ := ch.Lookup(name)
		snap := r.Snapshot()
		if len(snap.Segments) != seconds/2 {
			t.Fatalf("%s: %d segments, want %d", name, len(snap.Segments), seconds/2)
		}
		init, ok := r.Init("init.mp4")
		if !ok {
			t.Fatalf("%s: no init in memory", name)
		}
		produced[live.InitKey("ch", name, "init.mp4")] = init
		for _, seg := range snap.Segments {
			for p := -1; p < len(seg.Parts); p++ {
				key := live.SegmentKey("ch", name, seg.Number)
				if p >= 0 {
					key = live.PartKey("ch", name, seg.Number, p)
				}
				b, ok := r.Data(seg.Number, p)
				if !ok {
					t.Fatalf("%s not in memory", key)
				}
				produced[key] = b
			}
		}
	}
	for key, want := range produced {
		got, err := s3.Get(t.Context(), key)
		if err != nil {
			t.Errorf("produced but not in S3: %v", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: S3 holds %d bytes, the packager produced %d", key, len(got), len(want))
		}
	}
	listed, err := s3.List(t.Context(), "ch/")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(listed)
	if want := slices.Sorted(maps.Keys(produced)); !slices.Equal(listed, want) {
		t.Errorf("S3 holds %d objects, the packager produced %d:\n got %v\nwant %v", len(listed), len(want), listed, want)
	}

	// What a viewer would get from the bucket plays: init + segments
	// decode to every frame.
	path := filepath.Join(t.TempDir(), "from-s3.mp4")
	whole := f.get(t, live.InitKey("ch", "360p30", "init.mp4"))
	for n := int64(anchorSeg); n < anchorSeg+seconds/2; n++ {
		whole = append(whole, f.get(t, live.SegmentKey("ch", "360p30", n))...)
	}
	if err := os.WriteFile(path, whole, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := ffprobeFrames(t, path); got != len(aus) {
		t.Errorf("video from S3 decodes to %d frames, want %d", got, len(aus))
	}
}
