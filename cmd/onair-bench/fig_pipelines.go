package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"onair/internal/live"
)

// Parameters of the pipelines figure.
const (
	pipelineRuns      = 5
	pipelineCPUWarmup = 10 * time.Second // publisher start -> CPU window
	pipelineCPUWindow = 60 * time.Second
	pipelineSettle    = 6 * time.Second // both pipelines healthy -> kill
)

// pipelineRun is one pipeline failover as measured. Segment times are
// when the API (the origin's live index, no cache) first listed the
// segment; served is what a viewer sees through the built-in edge.
type pipelineRun struct {
	phase   time.Duration // segment N listed -> kill
	api     time.Duration // kill -> the API reports pipeline b active
	event   time.Duration // kill -> the pipeline.failover event's time (server clock)
	cause   string        // the event's data.cause
	index   time.Duration // kill -> segment N+1 listed, from b
	normal  time.Duration // segment N-1 listed -> segment N listed, from a (the cadence before)
	across  time.Duration // segment N listed (from a) -> segment N+1 listed (from b)
	served  time.Duration // kill -> first playlist through the edge from b with a segment newer than N
	before  int64         // N: newest complete segment before the kill
	first   int64         // newest complete segment in that first playlist from b
	oldest  int64         // oldest segment in that playlist
	hole    int64         // largest run of missing segment numbers in it (0: consecutive)
	gapTag  bool          // it has EXT-X-GAP
	discTag bool          // it has EXT-X-DISCONTINUITY
	// cutAPI and cutViewer count responses after the kill that list a
	// segment after N with A still active (the API) or from A (the
	// viewer's playlist): A's partial segment N+1, closed when its ffmpeg died.
	cutAPI, cutViewer int
}

// pipelineCPU is one mode's CPU window.
type pipelineCPU struct {
	mode   string
	onair  float64 // the onair process alone, CPU s per wall s
	kids   float64 // every descendant (ffmpeg), CPU s per wall s
	ffmpeg int     // ffmpeg processes seen in the window
	wall   float64 // window length, s
}

// pipelinesInfo is the part of a channel's API state this figure reads.
type pipelinesInfo struct {
	Ingest struct {
		RTMPURL string `json:"rtmp_url"`
	} `json:"ingest"`
	Renditions []struct {
		Name        string `json:"name"`
		LastSegment *int64 `json:"last_segment"`
	} `json:"renditions"`
	Transcoder *struct {
		State    string `json:"state"`
		PID      int    `json:"pid"`
		Restarts int    `json:"restarts"`
	} `json:"transcoder"`
	Mode   string `json:"pipelines"`
	Active string `json:"active_pipeline"`
	States []struct {
		Name        string   `json:"name"`
		Role        string   `json:"role"`
		State       string   `json:"state"`
		EncoderDown string   `json:"encoder_down"`
		ManifestAge *float64 `json:"manifest_age_seconds"`
		Transcoder  *struct {
			State    string `json:"state"`
			PID      int    `json:"pid"`
			Restarts int    `json:"restarts"`
		} `json:"transcoder"`
	} `json:"pipeline_states"`
}

// pipelineEvent is one entry of GET /api/v1/events.
type pipelineEvent struct {
	At   time.Time      `json:"at"`
	Kind string         `json:"kind"`
	Data map[string]any `json:"data"`
}

// ready reports whether every pipeline of a channel in mode is running
// with a live transcoder and, for standard, a manifest age, and A active.
func (in pipelinesInfo) ready(mode string) bool {
	if mode == "single" {
		return in.Transcoder != nil && in.Transcoder.State == "running" && in.Transcoder.PID > 0
	}
	if in.Active != "a" || len(in.States) != 2 {
		return false
	}
	for _, p := range in.States {
		if p.State != "running" || p.EncoderDown != "" || p.ManifestAge == nil ||
			p.Transcoder == nil || p.Transcoder.State != "running" || p.Transcoder.PID <= 0 {
			return false
		}
	}
	return true
}

// transcoderPID returns pipeline name's ffmpeg PID (0 when none).
func (in pipelinesInfo) transcoderPID(name string) int {
	for _, p := range in.States {
		if p.Name == name && p.Transcoder != nil {
			return p.Transcoder.PID
		}
	}
	return 0
}

// lastSegment returns rendition's newest complete segment (-1 before one).
func (in pipelinesInfo) lastSegment(rendition string) int64 {
	for _, r := range in.Renditions {
		if r.Name == rendition && r.LastSegment != nil {
			return *r.LastSegment
		}
	}
	return -1
}

// restarts sums the transcoder restarts of every pipeline.
func (in pipelinesInfo) restarts() int {
	if len(in.States) == 0 {
		if in.Transcoder == nil {
			return 0
		}
		return in.Transcoder.Restarts
	}
	n := 0
	for _, p := range in.States {
		if p.Transcoder != nil {
			n += p.Transcoder.Restarts
		}
	}
	return n
}

func (b *bench) figPipelines(ctx context.Context) (*section, error) {
	var runs []pipelineRun
	var serveArgv []string
	var rendition string
	for i := 1; i <= pipelineRuns; i++ {
		b.progress("pipelines: failover run %d of %d (kill %v after a segment)", i, pipelineRuns, pipelinePhase(i))
		r, argv, rend, err := b.pipelineFailover(ctx, filepath.Join(b.tmp, fmt.Sprintf("pipelines-%d", i)), i)
		if err != nil {
			return nil, fmt.Errorf("pipelines: failover run %d: %w", i, err)
		}
		b.progress("pipelines: run %d: API b after %v; segment %d listed %v after the kill (%v after %d; before %v); served through the edge after %v; missing numbers %d",
			i, r.api.Round(time.Millisecond), r.before+1, r.index.Round(time.Millisecond), r.across.Round(time.Millisecond), r.before,
			r.normal.Round(time.Millisecond), r.served.Round(time.Millisecond), r.hole)
		runs, serveArgv, rendition = append(runs, r), argv, rend
	}
	var cpus []pipelineCPU
	for _, mode := range []string{"single", "standard"} {
		b.progress("pipelines: CPU of a %s channel (%v window after %v warm-up)", mode, pipelineCPUWindow, pipelineCPUWarmup)
		c, err := b.pipelineCPU(ctx, filepath.Join(b.tmp, "pipelines-cpu-"+mode), mode)
		if err != nil {
			return nil, fmt.Errorf("pipelines: CPU of %s: %w", mode, err)
		}
		b.progress("pipelines: %s: %.3f cores (onair %.3f, %d ffmpeg %.3f)", mode, c.onair+c.kids, c.onair, c.ffmpeg, c.kids)
		cpus = append(cpus, c)
	}
	var phases []string
	for i := 1; i <= pipelineRuns; i++ {
		phases = append(phases, strconv.FormatFloat(pipelinePhase(i).Seconds(), 'f', -1, 64))
	}

	sec := &section{
		title: "8. Pipeline failover and the cost of standard mode",
		measures: "**Failover:** a channel created with `\"pipelines\":\"standard\"` runs two output-locked pipelines, A (active) and B " +
			"(standby), each with its own transcoder ffmpeg, fed by one publisher (640x360, 30 fps, a keyframe every 2 s; default ladder, " +
			"2 s segments). The rendition watched is `" + rendition + "`. Once both pipelines report a manifest age, after " +
			pipelineSettle.String() + ", the bench polls the API every 20 ms until two new segments of it are listed from A (N-1, then N: " +
			"the **cadence before**), then kills pipeline A's ffmpeg (`pipeline_states[a].transcoder.pid`) with SIGKILL a set time after " +
			"N was listed (the **phase**: " + strings.Join(phases, ", ") + " s in runs 1 to " + strconv.Itoa(pipelineRuns) + ", so the kill " +
			"falls early and late in the segment being made). Measured from the kill, polling every 20 ms: **API b**, until " +
			"`active_pipeline` is `b`; **event**, the time of the `pipeline.failover` event (server clock, same host) and its cause; " +
			"**N+1 listed**, until the API (the origin's live index, no cache) lists segment N+1, made by B; **across the kill**, N listed -> " +
			"N+1 listed, which equals the cadence before if the failover costs nothing; **served**, until a viewer (polling the media " +
			"playlist every 20 ms through the built-in edge, playlists max-age=1, since the channel started) first gets a playlist " +
			"that carries `Onair-Pipeline: b` and lists a segment after N: the first segment viewers get from the standby (the " +
			"segment is fetched too: 200 from b). In that playlist: the largest run of " +
			"missing segment numbers (0: consecutive) and whether it has EXT-X-GAP or EXT-X-DISCONTINUITY. Each run has a new data " +
			"directory and a new `onair serve`. Goal: the standby serves within one segment (2 s) of the kill, with no sequence gap. " +
			"**Cost:** the same publisher into a single-mode channel, then (a new onair) into a standard-mode channel: CPU time " +
			"(utime+stime from /proc, " + strconv.FormatFloat(b.clk, 'f', -1, 64) + " ticks/s) of `onair serve` plus every descendant " +
			"(the transcoder ffmpegs and any other helper onair starts; sampled every 0.5 s, so one that exits loses at most that) per " +
			"wall second, over " + pipelineCPUWindow.String() + " after a " + pipelineCPUWarmup.String() + " warm-up. The publisher is not " +
			"counted. 1.000 = one core busy.",
		commands: []string{
			"# " + strconv.Itoa(pipelineRuns) + " failover runs, each with a new data directory; per run:",
			shellQuote(serveArgv),
			`# POST /api/v1/channels {"name":"pl","pipelines":"standard"}, then`,
			shellQuote(failoverPublisher("rtmp://127.0.0.1:PORT/live/KEY")),
			"# poll GET /api/v1/channels/pl (renditions[" + rendition + "].last_segment) every 20 ms; PHASE after segment N is listed:",
			"kill -9 PIPELINE_A_FFMPEG_PID   # pipeline_states[a].transcoder.pid",
			"# poll GET /api/v1/channels/pl and GET /live/pl/" + rendition + "/index.m3u8 every 20 ms; GET /api/v1/events?channel=pl",
			"# CPU: a new onair serve and the same publisher into a channel with \"pipelines\":\"single\", then the same with \"standard\"",
		},
	}

	t := newTable("run", "phase", "kill -> API b", "kill -> event (cause)", "kill -> N+1 listed", "across the kill (cadence before)",
		"kill -> served through the edge", "first playlist from B", "missing numbers", "EXT-X-GAP / DISCONTINUITY",
		"A's cut N+1 seen (API / viewer)")
	var apis, events, index, served, extra []float64
	var worstHole int64
	var cutAPI, cutViewer int
	anyTag := false
	for i, r := range runs {
		t.add(strconv.Itoa(i+1), secs3(r.phase.Seconds()), secs3(r.api.Seconds()), fmt.Sprintf("%s (%s)", secs3(r.event.Seconds()), r.cause),
			secs3(r.index.Seconds()), fmt.Sprintf("%s (%s)", secs3(r.across.Seconds()), secs3(r.normal.Seconds())),
			secs3(r.served.Seconds()), fmt.Sprintf("segments %d–%d", r.oldest, r.first), strconv.FormatInt(r.hole, 10),
			yesNo(r.gapTag, "yes", "no")+" / "+yesNo(r.discTag, "yes", "no"), fmt.Sprintf("%d / %d", r.cutAPI, r.cutViewer))
		apis, events = append(apis, r.api.Seconds()), append(events, r.event.Seconds())
		index, served = append(index, r.index.Seconds()), append(served, r.served.Seconds())
		extra = append(extra, (r.across - r.normal).Seconds())
		worstHole = max(worstHole, r.hole)
		cutAPI, cutViewer = cutAPI+r.cutAPI, cutViewer+r.cutViewer
		anyTag = anyTag || r.gapTag || r.discTag
	}
	_, aMax := minMax(apis)
	_, eMax := minMax(events)
	_, iMax := minMax(index)
	sMin, sMax := minMax(served)
	xMin, xMax := minMax(extra)
	var lag []float64
	for _, r := range runs {
		lag = append(lag, (r.served - r.index).Seconds())
	}
	lMin, lMax := minMax(lag)
	t.add("median", "", secs3(median(apis)), secs3(median(events)), secs3(median(index)), "", secs3(median(served)), "", "", "", "")
	t.add("max", "", secs3(aMax), secs3(eMax), secs3(iMax), "", secs3(sMax), "", strconv.FormatInt(worstHole, 10), "", "")
	sec.tables = append(sec.tables, t)

	ct := newTable("mode", "onair process", "descendants (ffmpeg)", "total cores", "window")
	for _, c := range cpus {
		ct.add(c.mode, f3(c.onair), fmt.Sprintf("%s (%d ffmpeg)", f3(c.kids), c.ffmpeg), f3(c.onair+c.kids), secs(c.wall))
	}
	single, standard := cpus[0].onair+cpus[0].kids, cpus[1].onair+cpus[1].kids
	ratio := standard / single
	ct.add("standard / single", f3(cpus[1].onair/cpus[0].onair), f3(cpus[1].kids/cpus[0].kids), f3(ratio), "")
	sec.tables = append(sec.tables, ct)
	sec.notes = append(sec.notes, fmt.Sprintf("Across the kill minus the cadence before, per run: %+.3f s to %+.3f s (median %+.3f s): "+
		"what the failover adds to the wait for the next segment at the origin (20 ms poll). Served minus N+1 listed, %+.3f s to %+.3f s, "+
		"is the edge's playlist cache (max-age=1: 0 to 1 s, depending on when the edge last refreshed), there with or without a failover.",
		xMin, xMax, median(extra), lMin, lMax),
		fmt.Sprintf("A's cut N+1: when pipeline A's ffmpeg dies, A's packager closes the segment it was making and publishes it as "+
			"complete with its real, short duration, under the same number as B's full N+1. Until the failover repoints the origin, that "+
			"segment is A's newest. Over the %d runs, API responses listing it with A still active: %d; viewer playlists (from A) listing "+
			"it: %d.", len(runs), cutAPI, cutViewer),
		"CPU figures are CPU seconds per wall second (the publisher sends in real time, so wall = media). "+
			"One window per mode, back to back, on a shared machine: the load average is printed under the section.")

	verdict := "met"
	if iMax > 2 || worstHole > 0 || anyTag {
		verdict = "NOT met"
	}
	edgeVerdict := "also within 2 s"
	if sMax > 2 {
		edgeVerdict = "over 2 s in at least one run"
	}
	cut := "Neither the API nor the viewer listed A's cut segment N+1 (see the note)."
	if cutAPI > 0 {
		cut = fmt.Sprintf("The API listed A's cut segment N+1 %d times, in the moment before the failover; no viewer playlist did.", cutAPI)
	}
	if cutViewer > 0 {
		cut = fmt.Sprintf("%d viewer playlists listed A's cut, short segment N+1 before B's full one replaced it.", cutViewer)
	}
	sec.reading = fmt.Sprintf("B is active in the API %s after pipeline A's ffmpeg is killed (median; max %s). The origin lists B's "+
		"first new segment %s after the kill (median; max %s), when it was due anyway: across the kill the segment interval "+
		"differs from the cadence before by %+.3f s (median; %+.3f to %+.3f). Through the edge viewers get it %s to %s after the kill "+
		"(%s). No segment number is missing (largest run missing: %d) and %s. %s Goal (the standby serves within 2 s, no gap): %s. "+
		"Standard mode costs %s cores against %s for single, %.2f×.",
		secs(median(apis)), secs(aMax), secs(median(index)), secs(iMax), median(extra), xMin, xMax,
		secs(sMin), secs(sMax), edgeVerdict, worstHole, tagWords(anyTag), cut, verdict, f3(standard), f3(single), ratio)
	return sec, nil
}

func tagWords(tagged bool) string {
	if tagged {
		return "a GAP or DISCONTINUITY tag in at least one run"
	}
	return "no GAP or DISCONTINUITY tag"
}

// createPipelineChannel creates channel name with the pipelines mode.
func createPipelineChannel(ctx context.Context, srv *onairServer, name, mode string) (pipelinesInfo, error) {
	body := fmt.Sprintf(`{"name":%q,"pipelines":%q}`, name, mode)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.base+"/api/v1/channels", strings.NewReader(body))
	if err != nil {
		return pipelinesInfo{}, fmt.Errorf("create channel %s: %w", name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.http.Do(req)
	if err != nil {
		return pipelinesInfo{}, fmt.Errorf("create channel %s: %w", name, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return pipelinesInfo{}, fmt.Errorf("create channel %s: HTTP %d: %s", name, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	var in pipelinesInfo
	if err := json.Unmarshal(b, &in); err != nil {
		return pipelinesInfo{}, fmt.Errorf("create channel %s: decode: %w", name, err)
	}
	if in.Mode != mode {
		return pipelinesInfo{}, fmt.Errorf("create channel %s: asked for pipelines %q, got %q", name, mode, in.Mode)
	}
	return in, nil
}

// pipelineState fetches channel name's state.
func pipelineState(ctx context.Context, srv *onairServer, name string) (pipelinesInfo, error) {
	code, _, body := srv.get(ctx, "/api/v1/channels/"+name)
	var in pipelinesInfo
	if code != http.StatusOK {
		return in, fmt.Errorf("channel %s state: HTTP %d", name, code)
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return in, fmt.Errorf("channel %s state: decode: %w", name, err)
	}
	return in, nil
}

// startPipelineChannel starts onair in dir, creates channel "pl" in mode
// and its publisher, and waits until every pipeline transcodes and the
// master playlist lists a transcoded rendition, whose name it returns.
func (b *bench) startPipelineChannel(ctx context.Context, dir, mode string) (*onairServer, *proc, string, error) {
	srv, err := startOnair(b.procs, b.onair, "onair-pipelines-"+mode, filepath.Join(dir, "data"))
	if err != nil {
		return nil, nil, "", err
	}
	fail := func(err error) (*onairServer, *proc, string, error) {
		_ = srv.stop()
		return nil, nil, "", err
	}
	if err := srv.waitReady(ctx, 30*time.Second); err != nil {
		return fail(err)
	}
	ch, err := createPipelineChannel(ctx, srv, "pl", mode)
	if err != nil {
		return fail(err)
	}
	pub, err := b.procs.start("ffmpeg-publish-"+mode, failoverPublisher(ch.Ingest.RTMPURL), startOpts{})
	if err != nil {
		return fail(err)
	}
	var rendition string
	err = poll(ctx, 40*time.Second, 100*time.Millisecond, mode+" pipelines transcoding with segments", func() (bool, error) {
		if pub.exited() {
			return false, fmt.Errorf("publisher exited:\n%s", pub.tail(5))
		}
		in, err := pipelineState(ctx, srv, "pl")
		if err != nil || !in.ready(mode) {
			return false, nil
		}
		code, _, body := srv.get(ctx, "/live/pl/master.m3u8")
		if code != http.StatusOK {
			return false, nil
		}
		rendition = pickRendition(parseMasterURIs(string(body)))
		return rendition != "" && in.lastSegment(rendition) >= 1, nil
	})
	if err != nil {
		_ = pub.stop(3 * time.Second)
		return fail(err)
	}
	return srv, pub, rendition, nil
}

// pickRendition returns 360p30 if the master lists it, else its first
// transcoded rendition (not source, not audio); "" if none.
func pickRendition(uris []string) string {
	var names []string
	for _, u := range uris {
		if n, ok := strings.CutSuffix(u, "/index.m3u8"); ok && n != "source" && n != "audio" && !strings.Contains(n, "/") {
			names = append(names, n)
		}
	}
	if slices.Contains(names, "360p30") {
		return "360p30"
	}
	if len(names) > 0 {
		return names[0]
	}
	return ""
}

// pipelinePhase returns how long after a segment is listed run i
// (1-based) kills pipeline A: spread over a 2 s segment, so the kill falls
// early and late in the segment being made.
func pipelinePhase(i int) time.Duration {
	return 100*time.Millisecond + time.Duration(i-1)*400*time.Millisecond
}

// pipelineFailover runs failover i; it returns the run, onair's argv and
// the rendition watched.
func (b *bench) pipelineFailover(ctx context.Context, dir string, i int) (pipelineRun, []string, string, error) {
	srv, pub, rendition, err := b.startPipelineChannel(ctx, dir, "standard")
	if err != nil {
		return pipelineRun{}, nil, "", err
	}
	defer srv.stop()
	defer pub.stop(3 * time.Second)
	// A viewer watches from the start, so the edge refreshes its cached
	// playlist at times that have nothing to do with the kill.
	vctx, stopViewer := context.WithCancel(ctx)
	v := &playlistViewer{srv: srv, path: "/live/pl/" + rendition + "/index.m3u8", after: math.MaxInt64}
	var vwg sync.WaitGroup
	defer vwg.Wait()
	vwg.Go(func() { v.run(vctx) })
	defer stopViewer()
	if err := sleep(ctx, pipelineSettle); err != nil {
		return pipelineRun{}, nil, "", err
	}
	// listed polls the API until, with pipeline from active, the
	// rendition's newest segment is past n; it returns when that was seen
	// and the segment. A response past n with another pipeline active is
	// counted in *other.
	listed := func(n int64, from string, other *int) (time.Time, int64, error) {
		var at time.Time
		var last int64
		err := poll(ctx, 15*time.Second, 20*time.Millisecond, fmt.Sprintf("the API listing a segment after %d from %s", n, from), func() (bool, error) {
			in, err := pipelineState(ctx, srv, "pl")
			if err != nil || in.lastSegment(rendition) <= n {
				return false, nil
			}
			if in.Active != from {
				*other++
				return false, nil
			}
			at, last = time.Now(), in.lastSegment(rendition)
			return true, nil
		})
		return at, last, err
	}
	// The cadence before the kill: two segments listed from A.
	in, err := pipelineState(ctx, srv, "pl")
	if err != nil {
		return pipelineRun{}, nil, "", err
	}
	var ignored int
	tPrev, nPrev, err := listed(in.lastSegment(rendition), "a", &ignored)
	if err != nil {
		return pipelineRun{}, nil, "", err
	}
	tN, n, err := listed(nPrev, "a", &ignored)
	if err != nil {
		return pipelineRun{}, nil, "", err
	}
	if err := sleep(ctx, time.Until(tN.Add(pipelinePhase(i)))); err != nil {
		return pipelineRun{}, nil, "", err
	}
	if in, err = pipelineState(ctx, srv, "pl"); err != nil {
		return pipelineRun{}, nil, "", err
	}
	if !in.ready("standard") {
		return pipelineRun{}, nil, "", fmt.Errorf("pipelines not both healthy before the kill: %+v", in.States)
	}
	if got := in.lastSegment(rendition); got != n {
		return pipelineRun{}, nil, "", fmt.Errorf("segment %d listed %v after %d: the cadence is off", got, pipelinePhase(i), n)
	}
	pid := in.transcoderPID("a")
	if !isDescendantFFmpeg(srv.p.pid(), pid) {
		return pipelineRun{}, nil, "", fmt.Errorf("pipeline a's transcoder pid %d is not an ffmpeg under onair", pid)
	}
	r := pipelineRun{before: n, normal: tN.Sub(tPrev)}
	killed := v.arm("b", n)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return pipelineRun{}, nil, "", fmt.Errorf("kill pipeline a's ffmpeg %d: %w", pid, err)
	}
	r.phase = killed.Sub(tN)

	var apiErr, indexErr, servedErr error
	var playlist string
	var wg sync.WaitGroup
	wg.Go(func() {
		apiErr = poll(ctx, 15*time.Second, 20*time.Millisecond, "the API reporting pipeline b active", func() (bool, error) {
			in, err := pipelineState(ctx, srv, "pl")
			return err == nil && in.Active == "b", nil
		})
		r.api = time.Since(killed)
	})
	wg.Go(func() {
		var at time.Time
		at, _, indexErr = listed(n, "b", &r.cutAPI)
		r.index, r.across = at.Sub(killed), at.Sub(tN)
	})
	wg.Go(func() {
		var at time.Time
		at, r.first, playlist, servedErr = v.wait(ctx, 15*time.Second)
		r.served = at.Sub(killed)
	})
	wg.Wait()
	if err := errors.Join(apiErr, indexErr, servedErr); err != nil {
		return pipelineRun{}, nil, "", err
	}
	r.cutViewer = v.others()

	segs := parseMediaSegments(playlist)
	nums := segmentNumbers(segs)
	r.oldest = nums[0]
	r.hole = largestHole(nums)
	r.gapTag, r.discTag = hasTag(playlist, "#EXT-X-GAP"), hasTag(playlist, "#EXT-X-DISCONTINUITY")
	if !slices.Contains(nums, n) {
		return pipelineRun{}, nil, "", fmt.Errorf("the first playlist from b (segments %d-%d) does not reach back to %d, the newest before the kill",
			nums[0], r.first, n)
	}
	// The new segment itself must be there, from b.
	uri := segs[len(segs)-1].URI
	code, h, _ := srv.get(ctx, "/live/pl/"+rendition+"/"+uri)
	if code != http.StatusOK || h.Get("Onair-Pipeline") != "b" {
		return pipelineRun{}, nil, "", fmt.Errorf("GET %s after the switch: HTTP %d from pipeline %q", uri, code, h.Get("Onair-Pipeline"))
	}

	ev, err := failoverEvent(ctx, srv, killed)
	if err != nil {
		return pipelineRun{}, nil, "", err
	}
	r.event = ev.At.Sub(killed)
	r.cause, _ = ev.Data["cause"].(string)
	if ev.Data["from"] != "a" || ev.Data["to"] != "b" {
		return pipelineRun{}, nil, "", fmt.Errorf("failover event from %v to %v, want a to b", ev.Data["from"], ev.Data["to"])
	}
	return r, srv.argv, rendition, nil
}

// playlistViewer polls a media playlist every 20 ms, as a player would,
// and once armed notes the first response from one pipeline that lists a
// segment newer than a given one. Safe for concurrent use.
type playlistViewer struct {
	srv  *onairServer
	path string

	mu    sync.Mutex
	armed time.Time // zero until arm
	from  string    // the pipeline wanted
	after int64     // the segment to pass
	at    time.Time // when the wanted response came (zero before)
	last  int64     // its newest segment
	text  string    // its body
	other int       // armed responses from another pipeline listing a segment after after
}

// run polls until ctx ends.
func (v *playlistViewer) run(ctx context.Context) {
	for ctx.Err() == nil {
		sent := time.Now()
		code, h, body := v.srv.get(ctx, v.path)
		if code == http.StatusOK {
			nums := segmentNumbers(parseMediaSegments(string(body)))
			v.mu.Lock()
			if !v.armed.IsZero() && v.at.IsZero() && sent.After(v.armed) && len(nums) > 0 && nums[len(nums)-1] > v.after {
				if h.Get("Onair-Pipeline") == v.from {
					v.at, v.last, v.text = time.Now(), nums[len(nums)-1], string(body)
				} else {
					v.other++
				}
			}
			v.mu.Unlock()
		}
		_ = sleep(ctx, 20*time.Millisecond)
	}
}

// arm starts looking for a response from pipeline from listing a segment
// after n, for requests sent from now on; it returns now.
func (v *playlistViewer) arm(from string, n int64) time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.armed, v.from, v.after = time.Now(), from, n
	return v.armed
}

// others returns how many armed responses came from another pipeline
// listing a segment after the one given to arm.
func (v *playlistViewer) others() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.other
}

// wait returns when the wanted response came, its newest segment and body.
func (v *playlistViewer) wait(ctx context.Context, timeout time.Duration) (time.Time, int64, string, error) {
	var at time.Time
	var last int64
	var text string
	err := poll(ctx, timeout, 10*time.Millisecond, "a playlist from the standby with a new segment", func() (bool, error) {
		v.mu.Lock()
		defer v.mu.Unlock()
		at, last, text = v.at, v.last, v.text
		return !at.IsZero(), nil
	})
	return at, last, text, err
}

// failoverEvent waits for the channel's first pipeline.failover event
// after since (events are published in the background).
func failoverEvent(ctx context.Context, srv *onairServer, since time.Time) (pipelineEvent, error) {
	var found pipelineEvent
	err := poll(ctx, 10*time.Second, 100*time.Millisecond, "the pipeline.failover event", func() (bool, error) {
		code, _, body := srv.get(ctx, "/api/v1/events?channel=pl&limit=50")
		if code != http.StatusOK {
			return false, nil
		}
		var evs []pipelineEvent
		if err := json.Unmarshal(body, &evs); err != nil {
			return false, fmt.Errorf("events: decode: %w", err)
		}
		ok := false
		for _, e := range evs { // newest first: keep the oldest match
			if e.Kind == "pipeline.failover" && e.At.After(since.Add(-time.Second)) {
				found, ok = e, true
			}
		}
		return ok, nil
	})
	return found, err
}

// isDescendantFFmpeg reports whether pid is an ffmpeg below root.
func isDescendantFFmpeg(root, pid int) bool {
	for _, d := range descendants(root) {
		if d.PID == pid {
			return d.Comm == "ffmpeg"
		}
	}
	return false
}

// segmentNumbers returns the segment numbers of segs' URIs, in playlist
// order; URIs that are not "{n}.m4s" are skipped.
func segmentNumbers(segs []mediaSegment) []int64 {
	var out []int64
	for _, s := range segs {
		on, ok := live.ParseObjectName(path.Base(s.URI))
		if ok && !on.Init && on.Part < 0 {
			out = append(out, on.Segment)
		}
	}
	return out
}

// largestHole returns the largest run of numbers missing between
// consecutive entries of nums (0 when they are consecutive; a number that
// goes backwards or repeats counts as a hole of 1).
func largestHole(nums []int64) int64 {
	var hole int64
	for i := 1; i < len(nums); i++ {
		switch d := nums[i] - nums[i-1]; {
		case d > 1:
			hole = max(hole, d-1)
		case d < 1:
			hole = max(hole, 1)
		}
	}
	return hole
}

// hasTag reports whether a playlist has a line that is tag (or tag:...).
func hasTag(playlist, tag string) bool {
	for _, line := range strings.Split(playlist, "\n") {
		line = strings.TrimSpace(line)
		if line == tag || strings.HasPrefix(line, tag+":") {
			return true
		}
	}
	return false
}

// pipelineCPU measures onair and its descendants for a channel in mode.
func (b *bench) pipelineCPU(ctx context.Context, dir, mode string) (pipelineCPU, error) {
	t0 := time.Now()
	srv, pub, _, err := b.startPipelineChannel(ctx, dir, mode)
	if err != nil {
		return pipelineCPU{}, err
	}
	defer srv.stop()
	defer pub.stop(3 * time.Second)
	if err := sleep(ctx, time.Until(t0.Add(pipelineCPUWarmup))); err != nil {
		return pipelineCPU{}, err
	}
	before, err := pipelineState(ctx, srv, "pl")
	if err != nil {
		return pipelineCPU{}, err
	}
	m := newTreeCPU(srv.p.pid())
	if err := m.sample(true); err != nil {
		return pipelineCPU{}, err
	}
	end := time.Now().Add(pipelineCPUWindow)
	for time.Now().Before(end) {
		if err := sleep(ctx, min(500*time.Millisecond, time.Until(end))); err != nil {
			return pipelineCPU{}, err
		}
		if err := m.sample(false); err != nil {
			return pipelineCPU{}, err
		}
	}
	if pub.exited() {
		return pipelineCPU{}, fmt.Errorf("publisher ended before the window closed:\n%s", pub.tail(5))
	}
	after, err := pipelineState(ctx, srv, "pl")
	if err != nil {
		return pipelineCPU{}, err
	}
	if !after.ready(mode) || after.restarts() != before.restarts() {
		return pipelineCPU{}, fmt.Errorf("a transcoder restarted or a pipeline failed during the window: %+v %+v", after.Transcoder, after.States)
	}
	root, kids, ff, wall := m.result(b.clk)
	return pipelineCPU{mode: mode, onair: root, kids: kids, ffmpeg: ff, wall: wall}, nil
}

// procKey names one process (a PID may be reused).
type procKey struct {
	pid   int
	start uint64
}

// treeCPU adds up the CPU a process and its descendants spend between a
// first and a last sample. A process first seen after the first sample
// started after it and counts from 0; one that exits counts up to its last
// sample.
type treeCPU struct {
	root        int
	first, last time.Time
	base, now   map[procKey]uint64
	comm        map[procKey]string
}

func newTreeCPU(root int) *treeCPU {
	return &treeCPU{root: root, base: map[procKey]uint64{}, now: map[procKey]uint64{}, comm: map[procKey]string{}}
}

// sample reads the tree once; the root must be alive.
func (m *treeCPU) sample(first bool) error {
	at := time.Now()
	r, err := readProcStat(m.root)
	if err != nil {
		return fmt.Errorf("onair: %w", err)
	}
	for _, st := range append([]procStat{r}, descendants(m.root)...) {
		k := procKey{st.PID, st.StartTime}
		if _, seen := m.base[k]; !seen {
			m.base[k] = 0
			if first {
				m.base[k] = st.CPU()
			}
		}
		m.now[k], m.comm[k] = st.CPU(), st.Comm
	}
	if first {
		m.first = at
	}
	m.last = at
	return nil
}

// result returns CPU s per wall s of the root and of its descendants, the
// number of ffmpeg processes seen and the wall time between the samples.
func (m *treeCPU) result(clk float64) (root, kids float64, ffmpeg int, wall float64) {
	wall = m.last.Sub(m.first).Seconds()
	for k, v := range m.now {
		cpu := float64(v-m.base[k]) / clk / wall
		if k.pid == m.root {
			root += cpu
			continue
		}
		kids += cpu
		if m.comm[k] == "ffmpeg" {
			ffmpeg++
		}
	}
	return root, kids, ffmpeg, wall
}
