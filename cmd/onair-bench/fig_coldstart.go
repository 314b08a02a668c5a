package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"onair/internal/media"
)

const coldstartRuns = 3

// coldstart is one run's times from exec.
type coldstart struct {
	ready, master, segments time.Duration
}

// demoRenditions returns the media playlist URIs a demo channel's master
// playlist must list: the ladder fitted to the demo's 1280x720@30 source,
// the source passthrough and the audio.
func demoRenditions() []string {
	uris := []string{media.SourceRendition + "/index.m3u8", media.AudioRendition + "/index.m3u8"}
	for _, r := range media.Fit(media.DefaultLadder(), srcTrack) {
		uris = append(uris, r.Name+"/index.m3u8")
	}
	return uris
}

func (b *bench) figColdstart(ctx context.Context) (*section, error) {
	want := demoRenditions()
	var runs []coldstart
	var argv []string
	for i := 1; i <= coldstartRuns; i++ {
		b.progress("coldstart: run %d of %d", i, coldstartRuns)
		r, a, err := b.coldstartRun(ctx, filepath.Join(b.tmp, fmt.Sprintf("coldstart-%d", i)), want)
		if err != nil {
			return nil, fmt.Errorf("coldstart run %d: %w", i, err)
		}
		b.progress("coldstart: run %d: ready %v, master %v, segments %v", i, r.ready, r.master, r.segments)
		runs = append(runs, r)
		argv = a
	}
	sec := &section{
		title: "3. Cold start",
		measures: "`onair serve --demo` with a fresh (empty) data directory: wall time from exec to (1) /readyz answering 200, " +
			"(2) /live/demo/master.m3u8 listing every rendition (" + strings.Join(want, ", ") + "), and (3) every one of those " +
			"media playlists listing at least one complete segment (EXTINF). Polled every 20 ms, so each figure is up to " +
			"20 ms late. (3) includes the demo source's own start (ffmpeg), the RTMP publish, waiting for the first keyframe, " +
			"and one whole 2 s segment: a segment is complete only when the next one starts.",
		commands: []string{"# " + fmt.Sprint(coldstartRuns) + " runs, each with a new data directory", shellQuote(argv)},
	}
	t := newTable("run", "exec -> /readyz 200", "-> master lists every rendition", "-> first complete segment in every rendition")
	var rd, ma, sg []float64
	for i, r := range runs {
		t.add(fmt.Sprint(i+1), secs3(r.ready.Seconds()), secs3(r.master.Seconds()), secs3(r.segments.Seconds()))
		rd, ma, sg = append(rd, r.ready.Seconds()), append(ma, r.master.Seconds()), append(sg, r.segments.Seconds())
	}
	_, rdMax := minMax(rd)
	_, maMax := minMax(ma)
	_, sgMax := minMax(sg)
	t.add("median", secs3(median(rd)), secs3(median(ma)), secs3(median(sg)))
	t.add("max", secs3(rdMax), secs3(maMax), secs3(sgMax))
	sec.tables = append(sec.tables, t)
	sec.reading = fmt.Sprintf("ready in %s, full master in %s, a first segment everywhere in %s (medians); "+
		"the last is dominated by the 2 s segment the packager must finish first.",
		secs(median(rd)), secs(median(ma)), secs(median(sg)))
	return sec, nil
}

func (b *bench) coldstartRun(ctx context.Context, dir string, want []string) (coldstart, []string, error) {
	srv, err := startOnair(b.procs, b.onair, "onair-coldstart", filepath.Join(dir, "data"), "--demo")
	if err != nil {
		return coldstart{}, nil, err
	}
	defer srv.stop()
	var r coldstart
	if err := srv.waitReady(ctx, 30*time.Second); err != nil {
		return coldstart{}, nil, err
	}
	r.ready = time.Since(srv.started)
	err = poll(ctx, 30*time.Second, 20*time.Millisecond, "a master playlist listing every rendition", func() (bool, error) {
		code, _, body := srv.get(ctx, "/live/demo/master.m3u8")
		if code != http.StatusOK {
			return false, nil
		}
		have := parseMasterURIs(string(body))
		for _, w := range want {
			if !slices.Contains(have, w) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return coldstart{}, nil, err
	}
	r.master = time.Since(srv.started)
	done := map[string]bool{}
	err = poll(ctx, 30*time.Second, 20*time.Millisecond, "a complete segment in every rendition", func() (bool, error) {
		for _, w := range want {
			if done[w] {
				continue
			}
			code, _, body := srv.get(ctx, "/live/demo/"+w)
			if code == http.StatusOK && len(parseMediaSegments(string(body))) > 0 {
				done[w] = true
			}
		}
		return len(done) == len(want), nil
	})
	if err != nil {
		return coldstart{}, nil, err
	}
	r.segments = time.Since(srv.started)
	return r, srv.argv, nil
}
