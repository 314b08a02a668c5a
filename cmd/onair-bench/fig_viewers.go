package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"onair/internal/edge/edgetest"
)

// The viewers figure: LL-HLS viewers on one onair edge, ramped in steps.
var viewerSteps = []int{250, 500, 1000, 2000, 4000, 8000}

const (
	viewersSegment = 2 * time.Second        // D of onair's default channel
	viewersPart    = 500 * time.Millisecond // P of onair's default channel
	viewersWarm    = 3 * time.Second        // after the step's viewers joined, before measuring
	viewersHitGoal = 50 * time.Millisecond  // p99 cache-hit latency a step must stay under
)

// viewerStats is what the viewers saw during one measurement window.
// Safe for concurrent use.
type viewerStats struct {
	requests, parts, hits, errors, bytes atomic.Int64
	hitLatency                           latencyHist // requests answered X-Cache: HIT
	partLatency                          latencyHist // every part fetch, whatever X-Cache said
	firstErr                             atomic.Pointer[string]
}

func (s *viewerStats) observe(f edgetest.Fetch) {
	s.requests.Add(1)
	s.bytes.Add(f.Bytes)
	if f.Err != nil {
		s.errors.Add(1)
		msg := f.Err.Error()
		s.firstErr.CompareAndSwap(nil, &msg)
		return
	}
	if f.Cache == "HIT" {
		s.hits.Add(1)
		s.hitLatency.add(f.Latency)
	}
	if f.Kind == edgetest.KindPart {
		s.parts.Add(1)
		s.partLatency.add(f.Latency)
	}
}

// viewerStep is one row of the figure.
type viewerStep struct {
	viewers       int
	window        time.Duration
	stats         *viewerStats
	edgeCPU       float64 // cores
	loadCPU       float64 // cores used by the bench process (viewers and origin)
	rss           int64   // edge VmRSS at the end of the window, bytes
	load          string  // 1-minute load average at the end of the window
	originReqs    int64
	overloaded    bool
	overloadCause string
}

func (s *viewerStep) rps() float64 { return float64(s.stats.requests.Load()) / s.window.Seconds() }

// partsPerViewer is parts fetched per viewer per second; 1/P when every
// viewer keeps up with the live edge.
func (s *viewerStep) partsPerViewer() float64 {
	return float64(s.stats.parts.Load()) / s.window.Seconds() / float64(s.viewers)
}

// offload is origin requests per 1,000 viewer requests.
func (s *viewerStep) offload() float64 {
	return 1000 * float64(s.originReqs) / float64(max(s.stats.requests.Load(), 1))
}

// keepsUp reports whether every viewer kept up with the live edge: no
// error, (nearly) every part fetched, and the p99 part fetch shorter than
// a part, so a player's buffer does not drain.
func (s *viewerStep) keepsUp() bool {
	p99 := s.stats.partLatency.quantile(0.99)
	return s.stats.errors.Load() == 0 && p99 >= 0 && p99 < viewersPart && s.partsPerViewer() >= 0.95/viewersPart.Seconds()
}

// meetsGoal reports whether the step served every request with a p99
// cache-hit latency under the goal and viewers kept up with the stream.
func (s *viewerStep) meetsGoal() bool {
	p99 := s.stats.hitLatency.quantile(0.99)
	return s.stats.errors.Load() == 0 && p99 >= 0 && p99 < viewersHitGoal && s.partsPerViewer() >= 0.95/viewersPart.Seconds()
}

func (b *bench) figViewers(ctx context.Context) (*section, error) {
	window := time.Duration(min(10, b.seconds)) * time.Second
	origin, err := edgetest.New(edgetest.Config{Channel: "bench", Segment: viewersSegment, Part: viewersPart})
	if err != nil {
		return nil, fmt.Errorf("viewers: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("viewers: origin listen: %w", err)
	}
	osrv := &http.Server{Handler: origin.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = osrv.Serve(ln) }() // ErrServerClosed on Close; other failures show as viewer errors
	defer osrv.Close()

	port, err := freePort("tcp")
	if err != nil {
		return nil, fmt.Errorf("viewers: %w", err)
	}
	edgeBase := fmt.Sprintf("http://127.0.0.1:%d", port)
	edgeArgv := []string{b.onair, "edge", "--listen", strings.TrimPrefix(edgeBase, "http://"),
		"--upstream", "http://" + ln.Addr().String(), "--cache-mib", "256", "--log-level", "warn"}
	edge, err := b.procs.start("onair-edge", edgeArgv, startOpts{})
	if err != nil {
		return nil, fmt.Errorf("viewers: %w", err)
	}
	defer edge.stop(10 * time.Second)
	client := &http.Client{Timeout: 5 * time.Second}
	err = poll(ctx, 15*time.Second, 50*time.Millisecond, "onair edge /readyz", func() (bool, error) {
		if edge.exited() {
			return false, fmt.Errorf("onair edge exited:\n%s", edge.tail(10))
		}
		code, _, _ := httpGet(ctx, client, edgeBase+"/readyz")
		return code == http.StatusOK, nil
	})
	if err != nil {
		return nil, fmt.Errorf("viewers: %w", err)
	}
	idleRSS, err := readVmRSS(edge.pid())
	if err != nil {
		return nil, fmt.Errorf("viewers: %w", err)
	}

	// Viewers report into the current step's stats; between windows into
	// a throwaway.
	var current atomic.Pointer[viewerStats]
	current.Store(&viewerStats{})
	observe := func(f edgetest.Fetch) { current.Load().observe(f) }
	vctx, stopViewers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stopViewers(); wg.Wait() }()
	renditions := origin.Config().Renditions
	running := 0
	var steps []*viewerStep
	for _, n := range viewerSteps {
		b.progress("viewers: %d LL-HLS viewers on one edge", n)
		if err := b.addViewers(vctx, &wg, edgeBase, origin, renditions, running, n, observe); err != nil {
			return nil, fmt.Errorf("viewers: %w", err)
		}
		running = n
		if err := sleep(ctx, viewersWarm); err != nil {
			return nil, err
		}
		step, err := b.measureViewers(ctx, edge, origin, &current, n, window)
		if err != nil {
			return nil, fmt.Errorf("viewers: %w", err)
		}
		steps = append(steps, step)
		if step.overloaded {
			break
		}
	}
	stopViewers()
	wg.Wait()
	return viewersSection(edgeArgv, ln.Addr().String(), origin.Config(), window, idleRSS, steps), nil
}

// addViewers starts viewers from index have to want-1, spread over about
// a second: viewer i watches rendition i mod len(renditions) in
// low-latency mode with its own token and connection.
func (b *bench) addViewers(ctx context.Context, wg *sync.WaitGroup, edgeBase string, origin *edgetest.Origin,
	renditions []edgetest.Rendition, have, want int, observe func(edgetest.Fetch)) error {
	batch := max((want-have)/20, 1)
	for i := have; i < want; i++ {
		v, err := edgetest.NewViewer(edgetest.ViewerConfig{
			Master:     edgeBase + origin.MasterPath(),
			Playlist:   edgeBase + origin.PlaylistPath(renditions[i%len(renditions)].Name),
			LowLatency: true,
			Query:      fmt.Sprintf("token=v%d", i),
			Observe:    observe,
		})
		if err != nil {
			return err
		}
		wg.Go(func() { _ = v.Run(ctx) }) // Run fails only for a playlist without parts: seen as errors
		if (i-have+1)%batch == 0 {
			if err := sleep(ctx, 50*time.Millisecond); err != nil {
				return err
			}
		}
	}
	return nil
}

// measureViewers measures one window with n viewers running.
func (b *bench) measureViewers(ctx context.Context, edge *proc, origin *edgetest.Origin,
	current *atomic.Pointer[viewerStats], n int, window time.Duration) (*viewerStep, error) {
	self := os.Getpid()
	e0, err := readProcStat(edge.pid())
	if err != nil {
		return nil, err
	}
	s0, err := readProcStat(self)
	if err != nil {
		return nil, err
	}
	step := &viewerStep{viewers: n, stats: &viewerStats{}}
	o0 := origin.Total()
	t0 := time.Now()
	current.Store(step.stats)
	if err := sleep(ctx, window); err != nil {
		return nil, err
	}
	current.Store(&viewerStats{})
	step.window = time.Since(t0)
	step.originReqs = origin.Total() - o0
	e1, err := readProcStat(edge.pid())
	if err != nil {
		return nil, fmt.Errorf("onair edge: %w\n%s", err, edge.tail(10))
	}
	s1, err := readProcStat(self)
	if err != nil {
		return nil, err
	}
	step.edgeCPU = float64(e1.CPU()-e0.CPU()) / b.clk / step.window.Seconds()
	step.loadCPU = float64(s1.CPU()-s0.CPU()) / b.clk / step.window.Seconds()
	if step.rss, err = readVmRSS(edge.pid()); err != nil {
		return nil, err
	}
	step.load = strings.Fields(loadAvg())[0] // "unknown" when /proc/loadavg is unreadable
	// Latency alone does not stop the ramp: on a shared machine another
	// user's burst can stall one step.
	st := step.stats
	switch {
	case st.errors.Load()*100 > st.requests.Load():
		step.overloaded, step.overloadCause = true, fmt.Sprintf("%d of %d requests failed", st.errors.Load(), st.requests.Load())
	case step.partsPerViewer() < 0.5/viewersPart.Seconds():
		step.overloaded, step.overloadCause = true, "viewers fetched fewer than half the parts"
	}
	return step, nil
}

// viewersSection renders the figure.
func viewersSection(edgeArgv []string, originAddr string, cfg edgetest.Config, window time.Duration, idleRSS int64, steps []*viewerStep) *section {
	var ladder []string
	for _, r := range cfg.Renditions {
		ladder = append(ladder, fmt.Sprintf("%s %.1f Mb/s", r.Name, float64(r.Bandwidth)/1e6))
	}
	sec := &section{
		title: "6. Edge viewer capacity: LL-HLS viewers on one onair edge",
		measures: fmt.Sprintf("How many low-latency HLS viewers one `onair edge` serves from its cache, and what they cost. "+
			"The origin is edgetest's synthetic live LL-HLS origin inside the bench process (onair's URLs, playlist format and "+
			"Cache-Control; D = %s, P = %s, a %s playlist window, %s; every object's size follows its bitrate). "+
			"Each simulated viewer plays like hls.js in low-latency mode: the multivariant playlist, the media playlist and the "+
			"init segment once, then one blocking playlist reload (`_HLS_msn`/`_HLS_part`) for the next part after another and "+
			"each new part once, %.0f requests per second, over its own keep-alive connection and with its own `token` query "+
			"parameter (stripped from the cache key). Viewers are spread evenly over the renditions and added in steps; after "+
			"%s of warm-up, each step is measured for %s: requests/s, the share and the p50/p99 latency (request sent to last "+
			"body byte, measured by the viewer) of `X-Cache: HIT` answers, the p99 of every part fetch (hits, and the ones that "+
			"joined a fill), errors, parts per viewer per second (%.2f when every viewer keeps up), the CPU of the edge and of "+
			"the bench process (viewers and origin), the edge's VmRSS at the end of the window and the origin requests per "+
			"1,000 viewer requests, and the machine's 1-minute load average at the end of the window. The ramp stops at the "+
			"first step where over 1%% of requests fail or viewers fetch fewer than half the parts. The viewers share the 2 cores with the edge: at the top steps they "+
			"use as much CPU as the edge, so the capacity of an edge on a machine of its own is higher. Goal: p99 cache-hit "+
			"latency under %s.",
			human(cfg.Segment), human(cfg.Part), human(cfg.Window), strings.Join(ladder, ", "), 2/cfg.Part.Seconds(),
			human(viewersWarm), human(window), 1/cfg.Part.Seconds(), human(viewersHitGoal)),
		commands: []string{
			"# origin: edgetest.Origin (internal/edge/edgetest) on " + originAddr + ", channel " + cfg.Channel,
			shellQuote(edgeArgv),
			"# viewers: edgetest.Viewer goroutines in the bench process, steps " + fmt.Sprint(viewerSteps),
		},
	}
	t := newTable("viewers", "req/s", "hits", "p50 hit", "p99 hit", "p99 part", "errors", "parts/s per viewer",
		"edge CPU", "bench CPU", "edge RSS", "origin req per 1,000", "load")
	var best, keptUp *viewerStep
	for _, s := range steps {
		st := s.stats
		t.add(fmt.Sprint(s.viewers), fmt.Sprintf("%.0f", s.rps()),
			pct(float64(st.hits.Load())/float64(max(st.requests.Load(), 1))),
			quantileMS(&st.hitLatency, 0.5), quantileMS(&st.hitLatency, 0.99), quantileMS(&st.partLatency, 0.99),
			fmt.Sprint(st.errors.Load()), fmt.Sprintf("%.2f", s.partsPerViewer()),
			fmt.Sprintf("%.2f", s.edgeCPU), fmt.Sprintf("%.2f", s.loadCPU),
			fmt.Sprintf("%.0f MiB", float64(s.rss)/(1<<20)), fmt.Sprintf("%.2f", s.offload()), s.load)
		if s.meetsGoal() {
			best = s
		}
		if s.keepsUp() {
			keptUp = s
		}
		if msg := st.firstErr.Load(); msg != nil {
			sec.notes = append(sec.notes, fmt.Sprintf("First error at %d viewers: `%s`", s.viewers, *msg))
		}
		if s.overloaded {
			sec.notes = append(sec.notes, fmt.Sprintf("The ramp stopped after %d viewers: %s.", s.viewers, s.overloadCause))
		}
	}
	sec.tables = append(sec.tables, t)
	sec.notes = append(sec.notes, fmt.Sprintf("Edge VmRSS before any viewer: %.0f MiB.", float64(idleRSS)/(1<<20)))
	var parts []string
	if best == nil {
		parts = append(parts, fmt.Sprintf("no step met the goal (p99 cache-hit latency under %s, no error, viewers keeping up)", human(viewersHitGoal)))
	} else {
		parts = append(parts, fmt.Sprintf("one onair edge served %d LL-HLS viewers (%.0f requests/s) with a p99 cache-hit "+
			"latency of %s (goal < %s), no error and every viewer keeping up; the largest step that met the goal",
			best.viewers, best.rps(), quantileMS(&best.stats.hitLatency, 0.99), human(viewersHitGoal)))
	}
	if keptUp != nil {
		parts = append(parts, fmt.Sprintf("up to %d viewers (%.0f requests/s) kept up with the live edge: every part fetched "+
			"and the p99 part fetch (%s) shorter than a part (%s)", keptUp.viewers, keptUp.rps(),
			quantileMS(&keptUp.stats.partLatency, 0.99), human(viewersPart)))
	}
	slope, intercept := rssFit(steps)
	parts = append(parts, fmt.Sprintf("memory: %.1f MiB of edge RSS per 1,000 viewers (least-squares fit over the steps: "+
		"RSS ≈ %.0f MiB + %.1f KiB × viewers)", slope*1000/(1<<20), intercept/(1<<20), slope/(1<<10)))
	offload := fmt.Sprintf("origin offload: %.2f origin requests per 1,000 viewer requests at the largest step", steps[len(steps)-1].offload())
	if best != nil {
		offload += fmt.Sprintf(", %.2f at %d viewers", best.offload(), best.viewers)
	}
	parts = append(parts, offload+" (the origin load is constant: one request per part and rendition for the playlist, one for the part)")
	sec.reading = strings.Join(parts, "; ") + "."
	return sec
}

// rssFit fits edge RSS (bytes) = intercept + slope × viewers over the
// steps by least squares; with a single step, the line goes through the
// origin.
func rssFit(steps []*viewerStep) (slope, intercept float64) {
	var n, sx, sy, sxx, sxy float64
	for _, s := range steps {
		x, y := float64(s.viewers), float64(s.rss)
		n, sx, sy, sxx, sxy = n+1, sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	if d := n*sxx - sx*sx; n >= 2 && d != 0 {
		slope = (n*sxy - sx*sy) / d
		return slope, (sy - slope*sx) / n
	}
	if n == 0 || sx == 0 {
		return 0, 0
	}
	return sy / sx, 0
}

// quantileMS formats a quantile of h in milliseconds.
func quantileMS(h *latencyHist, q float64) string {
	d := h.quantile(q)
	if d < 0 {
		return "n/a"
	}
	return dur(d)
}

// human formats a duration the way the docs write them: "2 s", "500 ms".
func human(d time.Duration) string {
	if d >= time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64) + " ms"
}
