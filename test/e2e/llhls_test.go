package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

var preloadHint = regexp.MustCompile(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="(\d+)\.(\d+)\.m4s"`)

// An LL-HLS blocking playlist request for the next part returns once that
// part exists, with the part listed, and the part is then served.
func TestLLHLSBlockingReload(t *testing.T) {
	s := startServer(t, "")
	ch := s.createChannel(t, "ll", true)
	publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey), "320x240", 30, 0)
	media := s.base + "/live/ll/160p30/index.m3u8"
	waitSegment(t, s.base, "ll", []string{"160p30"}, 1, 40*time.Second)

	code, _, b := get(media)
	if code != 200 {
		t.Fatalf("playlist: %d", code)
	}
	pl := string(b)
	for _, tag := range []string{"#EXT-X-PART-INF:PART-TARGET=0.200", "CAN-BLOCK-RELOAD=YES", "PART-HOLD-BACK=", "#EXT-X-RENDITION-REPORT:"} {
		if !strings.Contains(pl, tag) {
			t.Errorf("LL-HLS playlist lacks %s:\n%s", tag, pl)
		}
	}
	for i := 0; i < 5; i++ { // several consecutive parts, like a player would
		m := preloadHint.FindStringSubmatch(pl)
		if m == nil {
			t.Fatalf("no preload hint in:\n%s", pl)
		}
		msn, part := m[1], m[2]
		partURI := fmt.Sprintf(`URI="%s.%s.m4s"`, msn, part)
		if strings.Contains(pl, "#EXT-X-PART:DURATION") && strings.Contains(pl, "#EXT-X-PART:"+"DURATION=0.200,"+partURI) {
			t.Fatalf("hinted part %s.%s is already listed", msn, part)
		}
		start := time.Now()
		code, h, b := get(fmt.Sprintf("%s?_HLS_msn=%s&_HLS_part=%s", media, msn, part))
		took := time.Since(start)
		if code != 200 {
			t.Fatalf("blocking reload for %s.%s: %d", msn, part, code)
		}
		pl = string(b)
		if !regexp.MustCompile(`#EXT-X-PART:DURATION=[0-9.]+,` + regexp.QuoteMeta(partURI)).MatchString(pl) {
			t.Fatalf("blocking reload returned without part %s.%s:\n%s", msn, part, pl)
		}
		// A part is 200 ms; the reload is answered when it is complete,
		// not at a timeout (BlockTimeout is 3 segments).
		if took > 1500*time.Millisecond {
			t.Errorf("blocking reload for part %s.%s took %v", msn, part, took)
		}
		if cc := h.Get("Cache-Control"); cc != "public, max-age=1" {
			t.Errorf("blocking reload Cache-Control %q", cc)
		}
		if code, _, data := get(fmt.Sprintf("%s/live/ll/160p30/%s.%s.m4s", s.base, msn, part)); code != 200 || len(data) == 0 {
			t.Errorf("part %s.%s listed but not served: %d", msn, part, code)
		}
	}

	// A preload-hinted part requested before it exists is held, then served.
	m := preloadHint.FindStringSubmatch(pl)
	code, _, data := get(fmt.Sprintf("%s/live/ll/160p30/%s.%s.m4s", s.base, m[1], m[2]))
	if code != 200 || len(data) == 0 {
		t.Errorf("preload-hinted part %s.%s: %d", m[1], m[2], code)
	}
	// Too far ahead: 400 for a blocking reload.
	if code, _, _ := get(media + "?_HLS_msn=999999&_HLS_part=0"); code != 400 {
		t.Errorf("far-future blocking reload: %d, want 400", code)
	}
}
