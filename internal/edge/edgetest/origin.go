package edgetest

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"onair/internal/format/hls"
	"onair/internal/live"
)

// Content types, as onair's origin sends them.
const (
	contentTypeM3U8 = "application/vnd.apple.mpegurl"
	contentTypeMP4  = "video/mp4"
	contentTypeM4S  = "video/iso.segment"
)

// Cache-Control values, as onair's origin sends them (objects: see
// objectCacheControl).
const (
	cachePlaylist = "public, max-age=1"
	cacheNotFound = "public, max-age=1"
	cacheNone     = "no-store"
)

// Origin is a synthetic live LL-HLS origin for one channel.
type Origin struct {
	cfg         Config
	tl          timeline
	renditions  map[string]int // index in cfg.Renditions by name
	objectCache string         // Cache-Control of segments, parts and init segments
	filler      []byte         // body bytes after the path line; as long as the largest object
	count       *counter
}

// New validates cfg and returns an origin whose channel has cfg.Preroll
// complete segments now and advances in real time. New starts nothing:
// serve Handler on a listener.
func New(cfg Config) (*Origin, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	o := &Origin{
		cfg:         cfg,
		tl:          newTimeline(time.Now(), cfg.Segment, cfg.Part, cfg.Preroll),
		renditions:  make(map[string]int, len(cfg.Renditions)),
		objectCache: objectCacheControl(cfg.Segment),
		count:       newCounter(),
	}
	largest := cfg.InitBytes
	for i, r := range cfg.Renditions {
		o.renditions[r.Name] = i
		largest = max(largest, o.partBytes(i)*int(o.tl.k))
	}
	o.filler = make([]byte, largest)
	for i := range o.filler {
		o.filler[i] = 'a' + byte(i%26)
	}
	return o, nil
}

// objectCacheControl is onair's Cache-Control of segments, parts and init
// segments: D + 10 s in whole seconds, rounded up.
func objectCacheControl(d time.Duration) string {
	age := (d + 10*time.Second + time.Second - 1) / time.Second
	return "public, max-age=" + strconv.FormatInt(int64(age), 10)
}

// Config returns the origin's configuration with the defaults filled in.
func (o *Origin) Config() Config { return o.cfg }

// MasterPath is the path of the multivariant playlist.
func (o *Origin) MasterPath() string { return "/live/" + o.cfg.Channel + "/master.m3u8" }

// PlaylistPath is the path of a rendition's media playlist.
func (o *Origin) PlaylistPath(rendition string) string {
	return "/live/" + o.cfg.Channel + "/" + rendition + "/index.m3u8"
}

// Requests returns how often each target was asked for so far, sorted by
// target.
func (o *Origin) Requests() []Request { return o.count.snapshot() }

// Total is the number of requests the origin received so far.
func (o *Origin) Total() int64 { return o.count.total.Load() }

// partBytes is the size of every part of rendition i.
func (o *Origin) partBytes(i int) int {
	r := o.cfg.Renditions[i]
	if r.PartBytes > 0 {
		return r.PartBytes
	}
	return max(int(int64(r.Bandwidth)*int64(o.cfg.Part)/int64(8*time.Second)), 1)
}

// Handler returns the playback handler; mount it at the root.
func (o *Origin) Handler() http.Handler { return http.HandlerFunc(o.serveHTTP) }

// route is a parsed request.
type route struct {
	kind      Kind
	rendition int // index; -1 for the multivariant playlist
	object    live.ObjectName
}

func (o *Origin) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	rt, ok := o.route(r.URL.Path)
	req := Request{Target: r.URL.Path, Kind: rt.kind, Segment: -1, Part: -1}
	if rt.rendition >= 0 {
		req.Rendition = o.cfg.Renditions[rt.rendition].Name
	}
	if rt.kind == KindSegment || rt.kind == KindPart {
		req.Segment, req.Part = rt.object.Segment, rt.object.Part
	}
	var d directive
	status := 0
	if rt.kind == KindPlaylist {
		d, status = parseDirective(r.URL.RawQuery)
		if d.block {
			req.Kind, req.Segment, req.Part = KindBlocking, d.msn, d.part
			req.Target += "?" + d.query()
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		req.Kind = KindOther
	}
	o.count.add(req)
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		w.Header().Set("Allow", "GET, HEAD")
		writeStatus(w, r, http.StatusMethodNotAllowed, cacheNone)
	case !ok:
		writeStatus(w, r, http.StatusNotFound, cacheNotFound)
	case status != 0:
		writeStatus(w, r, status, cacheNone)
	case rt.kind == KindMaster:
		o.writeBody(w, r, contentTypeM3U8, cachePlaylist, o.multivariant())
	case rt.kind == KindPlaylist:
		o.serveMedia(w, r, rt.rendition, d)
	case rt.kind == KindInit:
		o.writeObject(w, r, contentTypeMP4, o.cfg.InitBytes)
	default:
		o.serveObject(w, r, rt)
	}
}

// route parses a playback path; ok is false for paths naming nothing.
func (o *Origin) route(path string) (route, bool) {
	none := route{kind: KindOther, rendition: -1}
	rest, ok := strings.CutPrefix(path, "/live/"+o.cfg.Channel+"/")
	if !ok {
		return none, false
	}
	if rest == "master.m3u8" {
		return route{kind: KindMaster, rendition: -1}, true
	}
	name, file, ok := strings.Cut(rest, "/")
	i, known := o.renditions[name]
	if !ok || !known || strings.Contains(file, "/") {
		return none, false
	}
	if file == "index.m3u8" {
		return route{kind: KindPlaylist, rendition: i}, true
	}
	obj, ok := live.ParseObjectName(file)
	switch {
	case !ok, obj.Init && obj.Name != "init.mp4":
		return route{kind: KindOther, rendition: i}, false
	case obj.Init:
		return route{kind: KindInit, rendition: i, object: obj}, true
	case obj.Part >= 0:
		return route{kind: KindPart, rendition: i, object: obj}, true
	}
	return route{kind: KindSegment, rendition: i, object: obj}, true
}

// serveMedia serves a media playlist, after holding a blocking reload
// until the playlist holds the part asked for.
func (o *Origin) serveMedia(w http.ResponseWriter, r *http.Request, rend int, d directive) {
	pos := o.tl.at(time.Now())
	if pos.lastComplete(o.tl.k) < 0 {
		writeStatus(w, r, http.StatusNotFound, cacheNotFound)
		return
	}
	if d.block {
		if d.msn > pos.n+2 {
			writeStatus(w, r, http.StatusBadRequest, cacheNone)
			return
		}
		n, p := d.msn, d.part
		if p >= int(o.tl.k) {
			n, p = n+1, 0 // a part past the segment's last is the next segment's first
		}
		if !o.hold(w, r, o.tl.readyAt(n, p)) {
			return
		}
		pos = o.tl.at(time.Now())
	}
	o.writeBody(w, r, contentTypeM3U8, cachePlaylist, o.mediaPlaylist(rend, pos))
}

// serveObject serves a segment or part: at once when it exists, after a
// hold when it is due within one segment of the newest, else 404.
func (o *Origin) serveObject(w http.ResponseWriter, r *http.Request, rt route) {
	n, p := rt.object.Segment, rt.object.Part
	if p >= int(o.tl.k) {
		writeStatus(w, r, http.StatusNotFound, cacheNotFound) // can never exist
		return
	}
	now := time.Now()
	if n > o.tl.at(now).n+1 {
		writeStatus(w, r, http.StatusNotFound, cacheNotFound) // too far ahead
		return
	}
	if ready := o.tl.readyAt(n, p); ready.After(now) && !o.hold(w, r, ready) {
		return
	}
	size := o.partBytes(rt.rendition)
	if p < 0 {
		size *= int(o.tl.k)
	}
	o.writeObject(w, r, contentTypeM4S, size)
}

// hold waits until ready. It reports false, having answered 503 (or
// nothing when the client went away), when the wait would pass
// BlockTimeout.
func (o *Origin) hold(w http.ResponseWriter, r *http.Request, ready time.Time) bool {
	wait := time.Until(ready)
	if wait <= 0 {
		return true
	}
	late := wait > o.cfg.BlockTimeout
	t := time.NewTimer(min(wait, o.cfg.BlockTimeout))
	defer t.Stop()
	select {
	case <-r.Context().Done():
		return false
	case <-t.C:
	}
	if late {
		w.Header().Set("Retry-After", "1")
		writeStatus(w, r, http.StatusServiceUnavailable, cacheNone)
		return false
	}
	return true
}

// writeObject writes a size-byte body: the request path, a newline, then
// filler (the path line alone if size is smaller).
func (o *Origin) writeObject(w http.ResponseWriter, r *http.Request, contentType string, size int) {
	line := r.URL.Path + "\n"
	fill := max(size-len(line), 0)
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", o.objectCache)
	h.Set("Content-Length", strconv.Itoa(len(line)+fill))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write([]byte(line))
	_, _ = w.Write(o.filler[:fill])
}

// writeBody writes a 200 with body.
func (o *Origin) writeBody(w http.ResponseWriter, r *http.Request, contentType, cacheControl string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", cacheControl)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// writeStatus writes a short plain-text error.
func writeStatus(w http.ResponseWriter, r *http.Request, status int, cacheControl string) {
	body := http.StatusText(status) + "\n"
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", cacheControl)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(body))
	}
}

// directive is a parsed blocking reload (RFC 8216bis section 6.2.5.2):
// part < 0 asks for the whole segment msn.
type directive struct {
	block bool
	msn   int64
	part  int
}

// query is the directive as an edge forwards it (parameters sorted).
func (d directive) query() string {
	q := "_HLS_msn=" + strconv.FormatInt(d.msn, 10)
	if d.part >= 0 {
		q += "&_HLS_part=" + strconv.Itoa(d.part)
	}
	return q
}

// parseDirective reads _HLS_msn and _HLS_part from a raw query, as onair's
// origin does (hls.ParseDirective): a malformed directive is a 400.
func parseDirective(rawQuery string) (directive, int) {
	d, err := hls.ParseDirective(rawQuery)
	if err != nil {
		return directive{part: -1}, http.StatusBadRequest
	}
	return directive{block: d.Block, msn: d.MSN, part: d.Part}, 0
}
