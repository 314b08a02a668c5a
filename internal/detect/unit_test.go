package detect

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/media"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr []string
	}{
		{name: "zero value is valid (all checks off)", cfg: Config{}},
		{name: "typical", cfg: Config{Black: 2 * time.Second, Frozen: 2 * time.Second, Silent: 2 * time.Second, Sample: SampleAll}},
		{
			name: "everything wrong at once",
			cfg: Config{Black: -1, Frozen: -1, Silent: -1, BlackPixelThreshold: 2, BlackPictureRatio: -0.5,
				FreezeNoise: 1.5, SilenceNoiseDB: 3, Sample: "some"},
			wantErr: []string{"black duration", "frozen duration", "silent duration", "pixel threshold", "picture ratio", "freeze noise", "silence noise", `sample "some"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.withDefaults().Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if _, err := New(tt.cfg, Deps{}); err == nil {
				t.Error("New accepted an invalid config")
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	if c.BlackPixelThreshold != 0.10 || c.BlackPictureRatio != 0.98 || c.FreezeNoise != 0.001 || c.SilenceNoiseDB != -60 ||
		c.FFmpeg != "ffmpeg" || c.Sample != SampleKeyframes || c.Stale != 10*time.Second || c.Queue != 1024 {
		t.Errorf("defaults: %+v", c)
	}
}

func TestBuildArgs(t *testing.T) {
	all := Config{Black: 2 * time.Second, Frozen: 3 * time.Second, Silent: 1500 * time.Millisecond}.withDefaults()
	tests := []struct {
		name         string
		cfg          Config
		video, audio bool
		want         []string // consecutive argument pairs that must appear
		not          []string
		graph        string
	}{
		{
			name: "keyframes, video and audio", cfg: all, video: true, audio: true,
			want:  []string{"-threads 1", "-f matroska", "-i pipe:0", "-map [v]", "-map [a]", "-f null"},
			graph: "[0:v:0]blackdetect=d=0:pix_th=0.1:pic_th=0.98,freezedetect=n=0.001:d=3,metadata=mode=add:key=onair.end:value=1,metadata@onair_video=mode=print[v];[0:a:0]asetnsamples=n=4800:p=0,silencedetect=n=-60dB:d=1.5,ametadata=mode=add:key=onair.end:value=1,ametadata@onair_audio=mode=print[a]",
		},
		{
			name: "every frame, video only, black only",
			cfg:  Config{Black: time.Second, Sample: SampleAll, BlackPixelThreshold: 0.05}.withDefaults(), video: true,
			not:   []string{"-map [a]"},
			graph: "[0:v:0]blackdetect=d=0:pix_th=0.05:pic_th=0.98,metadata=mode=add:key=onair.end:value=1,metadata@onair_video=mode=print[v]",
		},
		{
			name: "audio only", cfg: all, audio: true,
			not:   []string{"-map [v]"},
			graph: "[0:a:0]asetnsamples=n=4800:p=0,silencedetect=n=-60dB:d=1.5,ametadata=mode=add:key=onair.end:value=1,ametadata@onair_audio=mode=print[a]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := buildArgs(tt.cfg, tt.video, tt.audio)
			joined := " " + strings.Join(args, " ") + " "
			for _, w := range tt.want {
				if !strings.Contains(joined, " "+w+" ") {
					t.Errorf("missing %q in %q", w, args)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(joined, " "+n+" ") {
					t.Errorf("unexpected %q in %q", n, args)
				}
			}
			i := slices.Index(args, "-filter_complex")
			if i < 0 || args[i+1] != tt.graph {
				t.Errorf("filter graph\n got %q\nwant %q", args[i+1], tt.graph)
			}
		})
	}
}

func TestEBMLSize(t *testing.T) {
	tests := []struct {
		n    uint64
		want string
	}{
		{0, "80"}, {1, "81"}, {126, "fe"}, {127, "407f"}, {16382, "7ffe"}, {16383, "203fff"}, {1 << 20, "300000"},
	}
	for _, tt := range tests {
		if got := hex.EncodeToString(ebml(nil).size(tt.n)); got != tt.want {
			t.Errorf("size(%d) = %s, want %s", tt.n, got, tt.want)
		}
	}
}

func TestMatroskaFrame(t *testing.T) {
	got := mkvFrame(nil, mkvVideoTrack, 1000, true, 3, func(b []byte) []byte { return append(b, 1, 2, 3) })
	// Cluster(size 13){Timestamp 1000, SimpleBlock(size 7){track 1, rel 0, key, 01 02 03}}
	want := "1f43b675" + "8d" + "e782" + "03e8" + "a387" + "81" + "0000" + "80" + "010203"
	if hex.EncodeToString(got) != want {
		t.Errorf("got  %x\nwant %s", got, want)
	}
}

func TestWallMap(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := newWallMap(4)
	if !m.get(0).IsZero() {
		t.Fatal("empty map returned a time")
	}
	// Units every 40 ms arriving 5 ms late each; only one per 100 ms is kept.
	for i := range 50 {
		pts := int64(i) * 3600
		m.put(pts, base.Add(time.Duration(i)*40*time.Millisecond+5*time.Millisecond))
	}
	tests := []struct {
		pts  int64
		want time.Duration
	}{
		{49 * 3600, 49*40*time.Millisecond + 5*time.Millisecond}, // extrapolated from the newest sample at or before
		{48 * 3600, 48*40*time.Millisecond + 5*time.Millisecond}, // a kept sample
		{0, 5 * time.Millisecond},                                // older than the ring: placed from its oldest sample
	}
	for _, tt := range tests {
		if got := m.get(tt.pts).Sub(base); got != tt.want {
			t.Errorf("get(%d) = %v, want %v", tt.pts, got, tt.want)
		}
	}
}

func TestCodecPrivate(t *testing.T) {
	sps, _ := hex.DecodeString(spsCases[0].hexSPS)
	pps := []byte{0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0}
	avc, err := avcConfig(sps, pps)
	if err != nil || !bytes.Equal(avc[:6], []byte{1, 0x64, 0x00, 0x0d, 0xff, 0xe1}) || !bytes.HasSuffix(avc, pps) {
		t.Errorf("avcC %x, %v", avc, err)
	}
	if _, err := avcConfig([]byte{0x67}, pps); err == nil {
		t.Error("avcC from a short SPS")
	}
	hsps, _ := hex.DecodeString(spsCases[5].hexSPS)
	hvc, err := hevcConfig([]byte{0x40, 0x01, 0x0c}, hsps, []byte{0x44, 0x01, 0xc1})
	if err != nil || hvc[0] != 1 || hvc[1] != 0x01 || hvc[21]&3 != 3 || hvc[22] != 3 || !bytes.HasSuffix(hvc, []byte{0x44, 0x01, 0xc1}) {
		t.Errorf("hvcC %x, %v", hvc, err)
	}
}

func TestWriteNeverBlocks(t *testing.T) {
	reg := prometheus.NewRegistry()
	d, err := New(Config{Silent: time.Second, Black: time.Second, Queue: 4, Labels: prometheus.Labels{"input": "backup"}}, Deps{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	audio := media.Unit{Kind: media.KindAudio, Audio: []byte{1}, Key: true}
	d.Write(audio) // before Start: ignored, not counted
	d.Start(&media.Track{Kind: media.KindVideo, Codec: media.CodecH264}, &media.Track{Kind: media.KindAudio, Codec: media.CodecAAC})
	for range 10 {
		d.Write(audio) // Run is not running: the queue fills
	}
	d.Write(media.Unit{Kind: media.KindVideo, NALUs: [][]byte{{1}}}) // non-key video: not needed
	if d.Dropped() != 6 {
		t.Errorf("dropped %d, want 6", d.Dropped())
	}
	if got := metricValue(t, reg, "onair_input_content_dropped_units_total", map[string]string{"input": "backup"}); got != 6 {
		t.Errorf("dropped metric %v, want 6", got)
	}
	if got := metricValue(t, reg, "onair_input_content_state", map[string]string{"input": "backup", "condition": "unknown"}); got != 1 {
		t.Errorf("unknown gauge %v before Run, want 1", got)
	}
	// A second Detector for the same input on the same registry reuses the series.
	if _, err := New(Config{Labels: prometheus.Labels{"input": "backup"}}, Deps{Registerer: reg}); err != nil {
		t.Errorf("second detector with the same labels: %v", err)
	}
}

// metricValue returns the value of the metric name with exactly the
// given labels (0 if absent).
func metricValue(t testing.TB, reg prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := len(m.GetLabel()) == len(labels)
			for _, lp := range m.GetLabel() {
				match = match && labels[lp.GetName()] == lp.GetValue()
			}
			if !match {
				continue
			}
			if m.Counter != nil {
				return m.Counter.GetValue()
			}
			return m.Gauge.GetValue()
		}
	}
	return 0
}
