package origin

import (
	"net/http"
	"slices"
	"strconv"

	"onair/internal/format/hls"
	"onair/internal/live"
	"onair/internal/media"
)

// audioGroup is the GROUP-ID of the audio renditions.
const audioGroup = "aud"

// serveMaster serves the multivariant playlist.
func (o *Origin) serveMaster(w http.ResponseWriter, r *http.Request, ch *live.Channel) error {
	var infos []live.Info
	for _, rend := range ch.Renditions() {
		snap := rend.Snapshot()
		infos = append(infos, snap.Info)
	}
	m, ok := multivariant(infos)
	if !ok {
		return notFound(errUnknownRendition)
	}
	writeBody(w, r, http.StatusOK, contentTypeM3U8, cachePlaylist, m.Append(make([]byte, 0, 2048)))
	return nil
}

// isAudio reports whether a rendition carries audio; a rendition without a
// declared kind is audio when it has the audio rendition's name.
func isAudio(info live.Info) bool {
	return info.Kind == media.KindAudio || info.Kind == 0 && info.Name == media.AudioRendition
}

// multivariant builds the multivariant playlist (RFC 8216bis section
// 4.4.6) for renditions that have an init segment: one EXT-X-STREAM-INF per
// video rendition, highest bandwidth first, each pointing at the audio
// group when the channel has audio. BANDWIDTH is the video peak plus the
// highest audio peak (section 4.4.6.2 counts every rendition the variant
// may play). An audio-only channel gets one variant for its audio.
func multivariant(infos []live.Info) (*hls.Multivariant, bool) {
	var video, audio []live.Info
	for _, info := range infos {
		if isAudio(info) {
			audio = append(audio, info)
		} else {
			video = append(video, info)
		}
	}
	if len(video) == 0 && len(audio) == 0 {
		return nil, false
	}
	m := &hls.Multivariant{Version: hlsVersion, IndependentSegments: true}
	var audioPeak, audioAvg int
	var audioCodecs []string
	for i, a := range audio {
		rend := hls.Rendition{
			Type: "AUDIO", GroupID: audioGroup, Name: a.Name,
			Default: i == 0, Autoselect: true, URI: a.Name + "/index.m3u8",
		}
		if a.Channels > 0 {
			rend.Channels = strconv.Itoa(a.Channels)
		}
		m.Renditions = append(m.Renditions, rend)
		audioPeak = max(audioPeak, a.Bandwidth)
		audioAvg = max(audioAvg, a.Average)
		if a.Codecs != "" && !slices.Contains(audioCodecs, a.Codecs) {
			audioCodecs = append(audioCodecs, a.Codecs)
		}
	}
	if len(video) == 0 {
		m.Renditions = nil
		a := audio[0]
		m.Variants = []hls.Variant{{
			Bandwidth: a.Bandwidth, AverageBandwidth: a.Average,
			Codecs: nonEmpty(a.Codecs), URI: a.Name + "/index.m3u8",
		}}
		return m, true
	}
	// Highest bandwidth first; ties keep the ladder's order.
	slices.SortStableFunc(video, func(a, b live.Info) int { return b.Bandwidth - a.Bandwidth })
	for _, v := range video {
		variant := hls.Variant{
			Bandwidth: v.Bandwidth + audioPeak,
			Codecs:    append(nonEmpty(v.Codecs), audioCodecs...),
			Width:     v.Width, Height: v.Height,
			FrameRate: v.FPS,
			URI:       v.Name + "/index.m3u8",
		}
		if v.Average > 0 {
			variant.AverageBandwidth = v.Average + audioAvg
		}
		if len(audio) > 0 {
			variant.Audio = audioGroup
		}
		m.Variants = append(m.Variants, variant)
	}
	return m, true
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
