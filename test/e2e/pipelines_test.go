package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"onair/internal/promtest"
)

// pipelineState is the part of the API's pipeline JSON the tests use.
type pipelineState struct {
	Name               string   `json:"name"`
	Role               string   `json:"role"`
	State              string   `json:"state"`
	EncoderDown        string   `json:"encoder_down"`
	ManifestAgeSeconds *float64 `json:"manifest_age_seconds"`
	StoragePrefix      string   `json:"storage_prefix"`
	Transcoder         *struct {
		State string `json:"state"`
		PID   int    `json:"pid"`
	} `json:"transcoder"`
}

type standardChannel struct {
	Mode           string          `json:"pipelines"`
	ActivePipeline string          `json:"active_pipeline"`
	Pipelines      []pipelineState `json:"pipeline_states"`
}

func (s *server) pipelines(t *testing.T, name string) standardChannel {
	t.Helper()
	code, _, b := get(s.base + "/api/v1/channels/" + name)
	var c standardChannel
	if code == 200 {
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// api sends a JSON request to the API and returns status and body.
func (s *server) api(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// timing is what output locking promises equal in segment n of A and B.
type timing struct {
	Start, Duration uint64 // media timescale
	Samples         int
}

// segmentTiming reads a segment object from a pipeline's storage prefix.
func segmentTiming(t *testing.T, media, prefix, rendition string, n int64) timing {
	t.Helper()
	initFile, err := os.Open(filepath.Join(media, prefix, rendition, "init.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	defer initFile.Close()
	init, err := mp4.DecodeFile(initFile)
	if err != nil || init.Init == nil {
		t.Fatalf("%s/%s init: %v", prefix, rendition, err)
	}
	trex := init.Init.Moov.Mvex.Trex
	b, err := os.ReadFile(filepath.Join(media, prefix, rendition, fmt.Sprintf("%d.m4s", n)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := mp4.DecodeFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s/%s/%d.m4s: %v", prefix, rendition, n, err)
	}
	var tm timing
	first := true
	for _, seg := range f.Segments {
		for _, frag := range seg.Fragments {
			samples, err := frag.GetFullSamples(trex)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range samples {
				if first {
					tm.Start, first = s.DecodeTime, false
				}
				tm.Duration += uint64(s.Dur)
				tm.Samples++
			}
		}
	}
	return tm
}

// standardFixture is a standard-mode channel fed by one publisher, with
// hls.js playing it through the server's edge.
type standardFixture struct {
	s        *server
	name     string
	playlist string
	results  chan error
	res      playResult
}

func startStandard(t *testing.T, s *server, name string) *standardFixture {
	code, b := s.api(t, "POST", "/api/v1/channels", fmt.Sprintf(`{"name":%q,"pipelines":"standard"}`, name))
	if code != 201 {
		t.Fatalf("create %s: %d %s", name, code, b)
	}
	var ch channel
	if err := json.Unmarshal(b, &ch); err != nil {
		t.Fatal(err)
	}
	publishRTMP(t, fmt.Sprintf("rtmp://%s/live/%s", s.rtmp, ch.Ingest.StreamKey), "320x240", 30, 0)
	f := &standardFixture{s: s, name: name, playlist: s.base + "/live/" + name + "/160p30/index.m3u8", results: make(chan error, 1)}
	waitFor(t, 40*time.Second, "segments", func() bool { return lastSegment(t, f.playlist) >= 3 })
	waitFor(t, 20*time.Second, "both pipelines with output", func() bool {
		c := s.pipelines(t, name)
		return len(c.Pipelines) == 2 && c.Pipelines[0].ManifestAgeSeconds != nil && c.Pipelines[1].ManifestAgeSeconds != nil
	})
	return f
}

func (f *standardFixture) play(t *testing.T, seconds int) {
	page := testPage(t)
	go func() {
		var err error
		f.res, err = runPlayer(page+"/?src="+url.QueryEscape(f.s.base+"/live/"+f.name+"/master.m3u8"), seconds)
		f.results <- err
	}()
}

// finish checks playback and the playlist after the failover.
func (f *standardFixture) finish(t *testing.T) {
	if err := <-f.results; err != nil {
		t.Fatal(err)
	}
	res := f.res
	t.Logf("player: ok=%v rate=%.2f stalls=%d max stall %.0f ms, errors %v", res.OK, res.Rate, res.Stalls, res.MaxStallMS, res.Errors)
	if !res.OK || res.Rate < 0.9 {
		t.Errorf("playback across the failover: ok=%v (%s), rate %.2f", res.OK, res.Reason, res.Rate)
	}
	if res.MaxStallMS > segSeconds*1000 {
		t.Errorf("a stall of %.0f ms, longer than one segment", res.MaxStallMS)
	}
	for _, e := range res.Errors {
		if msg, _ := e.(string); strings.Contains(msg, "(fatal)") {
			t.Errorf("fatal player error: %.300s", msg)
		}
	}
	checkContinuous(t, f.playlist)
	decode(t, f.playlist)
}

// failoverEvent returns the newest pipeline.failover event's reason.
func failoverEvent(t *testing.T, s *server, name string) (string, map[string]any) {
	var events []struct {
		Kind, Reason string
		Data         map[string]any
	}
	_, _, b := get(s.base + "/api/v1/events?channel=" + name)
	if err := json.Unmarshal(b, &events); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Kind == "pipeline.failover" {
			return e.Reason, e.Data
		}
	}
	return "", nil
}

// A standard channel runs two output-locked pipelines: segment n of every
// rendition has the same number, start and duration from A and B. Killing
// A's ffmpeg, and in a second channel stopping pipeline A altogether,
// hands viewers to B while hls.js plays: no stall longer than a segment,
// no sequence gap, and the event log says why.
func TestPipelineFailover(t *testing.T) {
	s := startServer(t, "")
	media := filepath.Join(s.dataDir, "media")

	t.Run("output locked, encoder killed", func(t *testing.T) {
		f := startStandard(t, s, "pk")
		c := s.pipelines(t, "pk")
		if c.Mode != "standard" || c.ActivePipeline != "a" || c.Pipelines[0].StoragePrefix != "pk/" || c.Pipelines[1].StoragePrefix != "pk.b/" {
			t.Fatalf("channel %+v", c)
		}
		n := lastSegment(t, f.playlist) - 1
		for _, r := range []string{"source", "240p30", "160p30", "audio"} {
			a, b := segmentTiming(t, media, "pk", r, n), segmentTiming(t, media, "pk.b", r, n)
			t.Logf("%s segment %d: A %+v B %+v", r, n, a, b)
			if a != b || a.Samples == 0 {
				t.Errorf("%s segment %d: A %+v, B %+v: not output-locked", r, n, a, b)
			}
		}

		f.play(t, 35)
		time.Sleep(12 * time.Second)
		pa := c.Pipelines[0].Transcoder
		if pa == nil || pa.PID == 0 {
			t.Fatalf("pipeline a transcoder %+v", pa)
		}
		before := lastSegment(t, f.playlist)
		killed := time.Now()
		if err := syscall.Kill(pa.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "promotion of b", func() bool { return s.pipelines(t, "pk").ActivePipeline == "b" })
		waitFor(t, 10*time.Second, "a segment from b", func() bool {
			code, h, body := get(f.playlist)
			segs := completeSegments(string(body))
			return code == 200 && h.Get("Onair-Pipeline") == "b" && len(segs) > 0 && segs[len(segs)-1] > before
		})
		t.Logf("kill to first new segment served from the standby: %v", time.Since(killed).Round(time.Millisecond))
		reason, data := failoverEvent(t, s, "pk")
		if !strings.Contains(reason, "pipeline a's encoder is down") || data["cause"] != "encoder_down" || data["to"] != "b" {
			t.Errorf("failover event %q %v", reason, data)
		}
		f.finish(t)
		waitFor(t, 20*time.Second, "a's ffmpeg back as the standby", func() bool {
			c := s.pipelines(t, "pk")
			return c.Pipelines[0].EncoderDown == "" && c.Pipelines[0].Role == "standby"
		})
		if code, b := s.api(t, "DELETE", "/api/v1/channels/pk", ""); code != 204 {
			t.Fatalf("delete: %d %s", code, b)
		}
	})

	t.Run("whole pipeline stopped", func(t *testing.T) {
		f := startStandard(t, s, "ps")
		f.play(t, 35)
		time.Sleep(12 * time.Second)
		before := lastSegment(t, f.playlist)
		if code, b := s.api(t, "POST", "/api/v1/channels/ps/pipelines/a", `{"action":"stop"}`); code != 200 {
			t.Fatalf("stop a: %d %s", code, b)
		}
		c := s.pipelines(t, "ps")
		if c.ActivePipeline != "b" || c.Pipelines[0].State != "stopped" {
			t.Fatalf("after stopping a: %+v", c)
		}
		waitFor(t, 10*time.Second, "segments from b", func() bool { return lastSegment(t, f.playlist) >= before+3 })
		reason, data := failoverEvent(t, s, "ps")
		if !strings.Contains(reason, "pipeline a is being stopped through the API") || data["cause"] != "stopped" {
			t.Errorf("failover event %q %v", reason, data)
		}
		// The standby is stopped: stopping b now would leave nothing.
		if code, b := s.api(t, "POST", "/api/v1/channels/ps/pipelines/b", `{"action":"stop"}`); code != 409 {
			t.Errorf("stopping the last running pipeline: %d %s, want 409", code, b)
		}
		f.finish(t)
		if code, b := s.api(t, "POST", "/api/v1/channels/ps/pipelines/a", `{"action":"start"}`); code != 200 {
			t.Fatalf("start a: %d %s", code, b)
		}
		waitFor(t, 30*time.Second, "a running with output again", func() bool {
			c := s.pipelines(t, "ps")
			return c.Pipelines[0].State == "running" && c.Pipelines[0].ManifestAgeSeconds != nil && *c.Pipelines[0].ManifestAgeSeconds < 2
		})
		// The restarted pipeline joins the same numbering and timing.
		joined := lastSegment(t, f.playlist)
		// The first segment after the join may be partial (it starts at the
		// first keyframe the new pipeline sees); the ones after are locked.
		waitFor(t, 20*time.Second, "four more segments", func() bool { return lastSegment(t, f.playlist) >= joined+4 })
		n := lastSegment(t, f.playlist) - 1
		for _, r := range []string{"160p30", "audio"} {
			a, b := segmentTiming(t, media, "ps", r, n), segmentTiming(t, media, "ps.b", r, n)
			if a != b || a.Samples == 0 {
				t.Errorf("after the restart, %s segment %d: A %+v, B %+v: not output-locked", r, n, a, b)
			}
		}
		metrics := getBody(t, s.base+"/metrics")
		for _, want := range []string{
			`onair_pipeline_active{channel="ps",pipeline="b"} 1`,
			`onair_pipeline_up{channel="ps",pipeline="a"} 1`,
			`onair_pipeline_manifest_age_threshold_seconds{channel="ps"} 4`,
			`onair_pipeline_failovers_total{cause="stopped",channel="ps"} 1`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

func getBody(t *testing.T, u string) string {
	t.Helper()
	code, _, b := get(u)
	if code != 200 {
		t.Fatalf("%s: %d", u, code)
	}
	return string(b)
}

// With automatic failover off, the shipped Prometheus rules and a real
// Prometheus and Alertmanager do the promotion: pipeline A's ffmpeg hangs
// (SIGSTOP), its manifest ages past the threshold, the
// OnairPipelineManifestStale alert fires and Alertmanager's webhook makes
// onair promote B.
func TestAlertmanagerPromotesStandby(t *testing.T) {
	t.Setenv("ONAIR_PIPELINES_AUTO_FAILOVER", "false")
	s := startServer(t, "")
	f := startStandard(t, s, "pm")
	c := s.pipelines(t, "pm")
	pa := c.Pipelines[0].Transcoder
	if pa == nil || pa.PID == 0 || c.ActivePipeline != "a" {
		t.Fatalf("channel %+v", c)
	}
	stack := promtest.Start(t, promtest.Config{
		Target:     s.base + "/metrics",
		RulesFile:  "../../deploy/prometheus/onair-rules.yml",
		WebhookURL: s.base + "/api/v1/alerts/alertmanager",
	})
	time.Sleep(3 * time.Second) // a few healthy scrapes first
	if got := s.pipelines(t, "pm").ActivePipeline; got != "a" {
		t.Fatalf("active %q before the fault", got)
	}
	before := lastSegment(t, f.playlist)
	if err := syscall.Kill(pa.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pa.PID, syscall.SIGCONT) })
	hung := time.Now()
	waitFor(t, 40*time.Second, "promotion of b by the alert", func() bool { return s.pipelines(t, "pm").ActivePipeline == "b" })
	t.Logf("ffmpeg hung to promotion through Prometheus and Alertmanager: %v", time.Since(hung).Round(time.Millisecond))
	reason, data := failoverEvent(t, s, "pm")
	if data["cause"] != "alert" || !strings.Contains(reason, "OnairPipelineManifestStale") {
		t.Errorf("failover event %q %v; Prometheus/Alertmanager logs:\n%s", reason, data, stack.Logs())
	}
	waitFor(t, 15*time.Second, "segments from b", func() bool { return lastSegment(t, f.playlist) >= before+4 })
	checkContinuous(t, f.playlist)
	// The hung pipeline does not exit by itself: onair restarts it.
	waitFor(t, 30*time.Second, "the stuck pipeline restarted", func() bool {
		c := s.pipelines(t, "pm")
		a := c.Pipelines[0]
		return a.Transcoder != nil && a.Transcoder.PID != 0 && a.Transcoder.PID != pa.PID && a.ManifestAgeSeconds != nil && *a.ManifestAgeSeconds < 2
	})
	var events []struct{ Kind, Reason string }
	_, _, b := get(s.base + "/api/v1/events?channel=pm")
	if err := json.Unmarshal(b, &events); err != nil {
		t.Fatal(err)
	}
	restarted := false
	for _, e := range events {
		restarted = restarted || e.Kind == "pipeline.restart" && strings.Contains(e.Reason, "stuck")
	}
	if !restarted {
		t.Errorf("no pipeline.restart event for the stuck pipeline: %+v", events)
	}
}
