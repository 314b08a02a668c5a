package origin

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Eyevinn/dash-mpd/mpd"
	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"onair/internal/live"
)

func TestMultivariantGolden(t *testing.T) {
	f := newFixture(t, Config{})
	f.standard()
	rec := f.get("/live/ch1/master.m3u8")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/vnd.apple.mpegurl" {
		t.Errorf("Content-Type %q", ct)
	}
	b := body(t, rec)
	golden(t, "master.m3u8", []byte(b))

	var m playlist.Multivariant
	if err := m.Unmarshal([]byte(b)); err != nil {
		t.Fatalf("gohlslib cannot parse the multivariant playlist: %v", err)
	}
	if len(m.Variants) != 2 || len(m.Renditions) != 1 {
		t.Fatalf("variants %d renditions %d, want 2 and 1", len(m.Variants), len(m.Renditions))
	}
	v := m.Variants[0]
	if v.URI != "720p/index.m3u8" || v.Bandwidth != 3_128_000 || v.Audio != "aud" ||
		strings.Join(v.Codecs, ",") != "avc1.64001f,mp4a.40.2" || v.Resolution != "1280x720" {
		t.Errorf("first variant %+v", v)
	}
	if a := m.Renditions[0]; a.URI == nil || *a.URI != "audio/index.m3u8" || !a.Default || a.Channels == nil || *a.Channels != "2" {
		t.Errorf("audio rendition %+v", a)
	}
}

func TestMultivariantSkipsRenditionsWithoutInit(t *testing.T) {
	f := newFixture(t, Config{})
	f.rendition(info360())
	f.ch.Rendition("1080p") // no init yet
	b := body(t, f.get("/live/ch1/master.m3u8"))
	if strings.Contains(b, "1080p") || !strings.Contains(b, "360p/index.m3u8") {
		t.Errorf("playlist:\n%s", b)
	}
	if strings.Contains(b, "AUDIO=") {
		t.Errorf("no audio rendition, yet an audio group:\n%s", b)
	}
}

func TestMediaPlaylistGolden(t *testing.T) {
	f := newFixture(t, Config{})
	f.standard()
	rec := f.get("/live/ch1/720p/index.m3u8")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	b := body(t, rec)
	golden(t, "media_720p.m3u8", []byte(b))

	var m playlist.Media
	if err := m.Unmarshal([]byte(b)); err != nil {
		t.Fatalf("gohlslib cannot parse the media playlist: %v", err)
	}
	if m.MediaSequence != 0 || len(m.Segments) != 6 || m.TargetDuration != 2 {
		t.Errorf("sequence %d segments %d target %d", m.MediaSequence, len(m.Segments), m.TargetDuration)
	}
	if m.PartInf == nil || m.PartInf.PartTarget != 500*time.Millisecond {
		t.Errorf("part inf %+v", m.PartInf)
	}
	if m.ServerControl == nil || !m.ServerControl.CanBlockReload || m.ServerControl.PartHoldBack == nil ||
		*m.ServerControl.PartHoldBack < 3*500*time.Millisecond || m.ServerControl.CanSkipUntil != nil {
		t.Errorf("server control %+v", m.ServerControl)
	}
	if len(m.Parts) != 2 || m.Parts[0].URI != "6.0.m4s" || !m.Parts[0].Independent {
		t.Errorf("in-progress parts %+v", m.Parts)
	}
	if m.PreloadHint == nil || m.PreloadHint.URI != "6.2.m4s" {
		t.Errorf("preload hint %+v", m.PreloadHint)
	}
	for i, s := range m.Segments {
		if s.DateTime == nil || !s.DateTime.Equal(wallOf(int64(i)).Truncate(time.Millisecond)) {
			t.Errorf("segment %d PROGRAM-DATE-TIME %v", i, s.DateTime)
		}
		// Parts only for the segments in the last three target durations.
		if wantParts := i >= 3; (len(s.Parts) > 0) != wantParts {
			t.Errorf("segment %d has %d parts", i, len(s.Parts))
		}
	}
	if len(m.RenditionReport) != 2 {
		t.Fatalf("rendition reports %+v", m.RenditionReport)
	}
	for _, r := range m.RenditionReport {
		if r.LastMSN != 6 || r.LastPart == nil || *r.LastPart != 1 || !strings.HasPrefix(r.URI, "../") {
			t.Errorf("report %+v", r)
		}
	}
}

func TestMediaPlaylistWindow(t *testing.T) {
	f := newFixture(t, Config{Window: 10 * time.Second})
	r := f.rendition(info720())
	for n := int64(0); n < 20; n++ {
		f.segment(r, n, false)
	}
	var m playlist.Media
	if err := m.Unmarshal([]byte(body(t, f.get("/live/ch1/720p/index.m3u8")))); err != nil {
		t.Fatal(err)
	}
	// Numbers after last-complete - Window/D: 15..19.
	if m.MediaSequence != 15 || len(m.Segments) != 5 {
		t.Errorf("sequence %d segments %d, want 15 and 5", m.MediaSequence, len(m.Segments))
	}
	// Segment 19 is complete: the hint is the first part of 20.
	if m.PreloadHint == nil || m.PreloadHint.URI != "20.0.m4s" {
		t.Errorf("preload hint %+v", m.PreloadHint)
	}

	// A window shorter than RFC 8216bis allows is widened to three target
	// durations plus a segment.
	f2 := newFixture(t, Config{Window: 2 * time.Second})
	r2 := f2.rendition(info720())
	for n := int64(0); n < 20; n++ {
		f2.segment(r2, n, false)
	}
	var m2 playlist.Media
	if err := m2.Unmarshal([]byte(body(t, f2.get("/live/ch1/720p/index.m3u8")))); err != nil {
		t.Fatal(err)
	}
	if len(m2.Segments) != 4 {
		t.Errorf("short window lists %d segments, want 4", len(m2.Segments))
	}
}

func TestMediaPlaylistNotReady(t *testing.T) {
	f := newFixture(t, Config{})
	r := f.rendition(info720())
	rec := f.get("/live/ch1/720p/index.m3u8")
	if rec.Code != http.StatusNotFound || rec.Header().Get("Cache-Control") != "public, max-age=1" {
		t.Errorf("no segments: status %d cache %q", rec.Code, rec.Header().Get("Cache-Control"))
	}
	f.parts(r, 0, false, 0, 1)
	if rec := f.get("/live/ch1/720p/index.m3u8"); rec.Code != http.StatusNotFound {
		t.Errorf("no complete segment: status %d", rec.Code)
	}
}

// TestGapAndDiscontinuity: segments 3 and 4 never came (a publisher gap),
// and segment 6 starts a session with a new init.
func TestGapAndDiscontinuity(t *testing.T) {
	f := newFixture(t, Config{})
	r := f.rendition(info720())
	for _, n := range []int64{0, 1, 2, 5} {
		f.segment(r, n, false)
	}
	r.SetInit(info720(), live.InitName(false, 6), []byte("init 720p v2"))
	f.segment(r, 6, true)
	f.segment(r, 7, false)
	f.parts(r, 8, false, 0, 1)

	b := body(t, f.get("/live/ch1/720p/index.m3u8"))
	golden(t, "media_gap_discontinuity.m3u8", []byte(b))

	var m playlist.Media
	if err := m.Unmarshal([]byte(b)); err != nil {
		t.Fatalf("gohlslib cannot parse: %v", err)
	}
	if m.MediaSequence != 0 || len(m.Segments) != 8 {
		t.Fatalf("sequence %d segments %d, want 0 and 8 (consecutive numbers)", m.MediaSequence, len(m.Segments))
	}
	for i, s := range m.Segments {
		wantURI := strings.TrimSuffix(segmentURI(int64(i)), "")
		if s.URI != wantURI {
			t.Errorf("entry %d URI %q, want %q", i, s.URI, wantURI)
		}
		if gap := i == 3 || i == 4; s.Gap != gap {
			t.Errorf("entry %d gap %v", i, s.Gap)
		}
		if disc := i == 5 || i == 6; s.Discontinuity != disc {
			t.Errorf("entry %d discontinuity %v", i, s.Discontinuity)
		}
		if s.Gap && s.Duration != 2*time.Second {
			t.Errorf("gap %d duration %v", i, s.Duration)
		}
	}
	if !strings.Contains(b, "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init-6.mp4\"\n#EXT-X-PROGRAM-DATE-TIME") {
		t.Errorf("init change not announced after the discontinuity:\n%s", b)
	}
	if strings.Count(b, "#EXT-X-MAP:") != 2 {
		t.Errorf("want 2 EXT-X-MAP tags:\n%s", b)
	}
	// The new init is served under its own name, the old one still.
	if got := body(t, f.get("/live/ch1/720p/init-6.mp4")); got != "init 720p v2" {
		t.Errorf("init-6.mp4 = %q", got)
	}
	if got := body(t, f.get("/live/ch1/720p/init.mp4")); got != "init 720p" {
		t.Errorf("init.mp4 = %q", got)
	}
}

// TestNoGapBeforeFirstSegment: the window starts at a real segment even
// when the number range before it is empty.
func TestNoGapBeforeFirstSegment(t *testing.T) {
	f := newFixture(t, Config{Window: 10 * time.Second})
	r := f.rendition(info720())
	f.segment(r, 0, false)
	for n := int64(8); n < 10; n++ {
		f.segment(r, n, false)
	}
	var m playlist.Media
	if err := m.Unmarshal([]byte(body(t, f.get("/live/ch1/720p/index.m3u8")))); err != nil {
		t.Fatal(err)
	}
	if m.MediaSequence != 8 || len(m.Segments) != 2 || m.Segments[0].Gap || m.Segments[0].Discontinuity {
		t.Errorf("sequence %d segments %+v", m.MediaSequence, m.Segments)
	}
	// The discontinuity after the gap is folded into the sequence number.
	if *m.DiscontinuitySequence != 1 {
		t.Errorf("discontinuity sequence %d, want 1", *m.DiscontinuitySequence)
	}
}

// TestDiscontinuitySequence: EXT-X-DISCONTINUITY-SEQUENCE grows exactly
// when a discontinuity leaves the playlist, whether it leaves only the
// playlist or the index too.
func TestDiscontinuitySequence(t *testing.T) {
	f := newFixture(t, Config{Window: 8 * time.Second}) // 4 segments
	r := f.rendition(info720())
	r.SetWindow(5)
	want := map[int64]int{5: 0, 6: 1, 7: 1, 8: 1, 12: 1}
	for n := int64(0); n <= 12; n++ {
		f.segment(r, n, n == 3)
		ds, ok := want[n]
		if !ok {
			continue
		}
		var m playlist.Media
		if err := m.Unmarshal([]byte(body(t, f.get("/live/ch1/720p/index.m3u8")))); err != nil {
			t.Fatal(err)
		}
		if got := *m.DiscontinuitySequence; got != ds {
			t.Errorf("after segment %d: discontinuity sequence %d, want %d", n, got, ds)
		}
		for i, s := range m.Segments {
			// Segment 3 carries the tag while it is not the first entry.
			if want := m.MediaSequence+i == 3 && i > 0; s.Discontinuity != want {
				t.Errorf("after segment %d: entry %d discontinuity %v", n, i, s.Discontinuity)
			}
		}
	}
}

func TestMPDGolden(t *testing.T) {
	f := newFixture(t, Config{})
	f.standard()
	rec := f.get("/live/ch1/manifest.mpd")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/dash+xml" {
		t.Errorf("Content-Type %q", ct)
	}
	b := body(t, rec)
	golden(t, "manifest.mpd", []byte(b))

	m, err := mpd.MPDFromBytes([]byte(b))
	if err != nil {
		t.Fatalf("dash-mpd cannot parse: %v", err)
	}
	if m.GetType() != "dynamic" || string(m.AvailabilityStartTime) != "2026-03-01T12:00:00.000Z" ||
		len(m.Periods) != 1 || len(m.UTCTimings) != 1 {
		t.Fatalf("mpd %+v", m)
	}
	if got := string(m.UTCTimings[0].SchemeIdUri); got != "urn:mpeg:dash:utc:http-iso:2014" || m.UTCTimings[0].Value != "http://example.com/time" {
		t.Errorf("UTCTiming %s %s", got, m.UTCTimings[0].Value)
	}
	if d := time.Duration(*m.SuggestedPresentationDelay); d != 6*time.Second {
		t.Errorf("suggestedPresentationDelay %v", d)
	}
	p := m.Periods[0]
	if len(p.AdaptationSets) != 2 {
		t.Fatalf("adaptation sets %d", len(p.AdaptationSets))
	}
	video, audio := p.AdaptationSets[0], p.AdaptationSets[1]
	if video.MimeType != "video/mp4" || !video.SegmentAlignment || video.StartWithSAP != 1 || len(video.Representations) != 2 {
		t.Errorf("video adaptation set %+v", video)
	}
	rep := video.Representations[0]
	st := rep.SegmentTemplate
	if rep.Id != "720p" || rep.Bandwidth != 3_000_000 || rep.Codecs != "avc1.64001f" || st == nil ||
		*st.Timescale != 90000 || *st.Duration != 180000 || *st.StartNumber != 0 ||
		st.Media != "$RepresentationID$/$Number$.m4s" || st.Initialization != "$RepresentationID$/init.mp4" {
		t.Errorf("720p representation %+v template %+v", rep, st)
	}
	if video.Representations[1].FrameRate != "30000/1001" {
		t.Errorf("360p frame rate %q", video.Representations[1].FrameRate)
	}
	arep := audio.Representations[0]
	if arep.AudioSamplingRate == nil || *arep.AudioSamplingRate != "48000" || len(arep.AudioChannelConfigurations) != 1 ||
		*arep.SegmentTemplate.Duration != 96000 {
		t.Errorf("audio representation %+v", arep)
	}
}

// TestMPDInitChangeOpensPeriod: an init that changes inside the window
// starts a new Period at its first segment.
func TestMPDInitChangeOpensPeriod(t *testing.T) {
	f := newFixture(t, Config{})
	v := f.rendition(info720())
	a := f.rendition(infoAudio())
	for n := int64(0); n < 4; n++ {
		f.segment(v, n, false)
		f.segment(a, n, false)
	}
	v.SetInit(info720(), live.InitName(false, 4), []byte("init 720p v2"))
	for n := int64(4); n < 6; n++ {
		f.segment(v, n, n == 4)
		f.segment(a, n, false)
	}
	b := body(t, f.get("/live/ch1/manifest.mpd"))
	golden(t, "manifest_periods.mpd", []byte(b))
	m, err := mpd.MPDFromBytes([]byte(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Periods) != 2 {
		t.Fatalf("periods %d, want 2", len(m.Periods))
	}
	p := m.Periods[1]
	vt := p.AdaptationSets[0].Representations[0].SegmentTemplate
	at := p.AdaptationSets[1].Representations[0].SegmentTemplate
	if p.Id != "4" || time.Duration(*p.Start) != 8*time.Second || *vt.StartNumber != 4 ||
		vt.Initialization != "$RepresentationID$/init-4.mp4" || *vt.PresentationTimeOffset != 4*180000 ||
		at.Initialization != "$RepresentationID$/init.mp4" || *at.PresentationTimeOffset != 4*96000 {
		t.Errorf("second period %+v video %+v audio %+v", p, vt, at)
	}
}

func TestTime(t *testing.T) {
	f := newFixture(t, Config{})
	rec := f.get("/time")
	if got := body(t, rec); got != "2026-03-01T12:00:13.250Z" {
		t.Errorf("/time = %q", got)
	}
	if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("headers %v", rec.Header())
	}
}

func TestFrameRate(t *testing.T) {
	for fps, want := range map[float64]string{30: "30", 29.97: "30000/1001", 59.94: "60000/1001", 23.976: "24000/1001", 12.5: "25/2", 0: ""} {
		if got := frameRate(fps); got != want {
			t.Errorf("frameRate(%v) = %q, want %q", fps, got, want)
		}
	}
}
