package app

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// inputCollector exports every running channel's input health (from
// stream.Health) at scrape time.
type inputCollector struct {
	chans *channels

	active, bitrate, fps, width, height, lastFrame, info *prometheus.Desc
}

func newInputCollector(c *channels) *inputCollector {
	l := []string{"channel"}
	return &inputCollector{
		chans:     c,
		active:    prometheus.NewDesc("onair_input_active", "1 when a publisher is connected to the channel.", l, nil),
		bitrate:   prometheus.NewDesc("onair_input_bitrate_bits_per_second", "Input bitrate (video and audio payload) over the last ~2 s.", l, nil),
		fps:       prometheus.NewDesc("onair_input_fps", "Input video frame rate over the last ~2 s.", l, nil),
		width:     prometheus.NewDesc("onair_input_width_pixels", "Input video width.", l, nil),
		height:    prometheus.NewDesc("onair_input_height_pixels", "Input video height.", l, nil),
		lastFrame: prometheus.NewDesc("onair_input_last_frame_timestamp_seconds", "Unix time of the last input video frame.", l, nil),
		info:      prometheus.NewDesc("onair_input_info", "Input description; the value is always 1.", []string{"channel", "source", "video_codec", "audio_codec"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *inputCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.active, c.bitrate, c.fps, c.width, c.height, c.lastFrame, c.info} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *inputCollector) Collect(ch chan<- prometheus.Metric) {
	c.chans.mu.Lock()
	runs := make(map[string]*channelRun, len(c.chans.running))
	for n, r := range c.chans.running {
		runs[n] = r
	}
	c.chans.mu.Unlock()
	for name, run := range runs {
		h := run.stream.Health()
		active := 0.0
		if h.Active {
			active = 1
		}
		ch <- prometheus.MustNewConstMetric(c.active, prometheus.GaugeValue, active, name)
		if !h.Active {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.bitrate, prometheus.GaugeValue, h.Bitrate, name)
		ch <- prometheus.MustNewConstMetric(c.fps, prometheus.GaugeValue, h.FPS, name)
		if !h.LastFrame.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.lastFrame, prometheus.GaugeValue, float64(h.LastFrame.UnixNano())/float64(time.Second), name)
		}
		vc, ac := "", ""
		if h.Video != nil {
			vc = string(h.Video.Codec)
			ch <- prometheus.MustNewConstMetric(c.width, prometheus.GaugeValue, float64(h.Video.Width), name)
			ch <- prometheus.MustNewConstMetric(c.height, prometheus.GaugeValue, float64(h.Video.Height), name)
		}
		if h.Audio != nil {
			ac = string(h.Audio.Codec)
		}
		ch <- prometheus.MustNewConstMetric(c.info, prometheus.GaugeValue, 1, name, h.Source, vc, ac)
	}
}
