package edge

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// spillBody is the 6000-byte body the spill tests' upstream serves for
// path: about nine fit in a 64 KiB memory cache.
func spillBody(path string) string {
	return string(bytes.Repeat([]byte(path+";"), 6000/(len(path)+1)+1)[:6000])
}

func spillUpstream(t *testing.T) *countingUpstream {
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Header().Set("Content-Type", "video/iso.segment")
		fmt.Fprint(w, spillBody(r.URL.Path))
	})
}

func segmentPath(n int) string { return fmt.Sprintf("/live/c/720p/%d.m4s", n) }

// spillFiles lists the spill's files in dir.
func spillFiles(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read spill dir: %v", err)
	}
	out := map[string]int64{}
	for _, de := range entries {
		if isSpillName(de.Name()) {
			fi, err := de.Info()
			if err != nil {
				t.Fatal(err)
			}
			out[de.Name()] = fi.Size()
		}
	}
	return out
}

// spillSettled waits until every spilled object is on disk.
func spillSettled(t *testing.T, e *testEdge, dir string) {
	t.Helper()
	eventually(t, 5*time.Second, "spill writes", func() bool {
		e.spill.mu.Lock()
		n, pending := len(e.spill.index), len(e.spill.queue)
		e.spill.mu.Unlock()
		if pending != 0 || n == 0 {
			return false
		}
		// A dequeued object's file exists before its bytes are written.
		files := spillFiles(t, dir)
		for _, size := range files {
			if size == 0 {
				return false
			}
		}
		return len(files) == n
	})
}

func TestSpillServesEvictedObjects(t *testing.T) {
	dir := t.TempDir()
	// An earlier run's file is removed at start; anything else is kept.
	old := filepath.Join(dir, spillName("/old", 1))
	os.WriteFile(old, []byte("old"), 0o600)
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("mine"), 0o600)
	up := spillUpstream(t)
	e := startEdge(t, Config{Upstreams: []string{up.URL}, CacheBytes: 64 << 10, SpillDir: dir}, nil)
	eventually(t, 5*time.Second, "the spill dir prepared", func() bool {
		_, err := os.Stat(old)
		return os.IsNotExist(err)
	})
	if _, err := os.Stat(filepath.Join(dir, "keep.txt")); err != nil {
		t.Errorf("a file the spill did not write was removed: %v", err)
	}

	get(t, e.url+"/live/c/720p/index.m3u8")
	for i := range 20 {
		if r := get(t, e.url+segmentPath(i)); r.cache() != "MISS" {
			t.Fatalf("segment %d: %q", i, r.cache())
		}
	}
	spillSettled(t, e, dir)
	if e.spill.get("/live/c/720p/index.m3u8", false) != nil {
		t.Errorf("a playlist was spilled")
	}
	files := spillFiles(t, dir)
	if len(files) < 10 {
		t.Fatalf("%d files spilled, want the ~11 evicted segments", len(files))
	}
	for name, size := range files {
		if size != 6000 {
			t.Errorf("%s: %d bytes", name, size)
		}
	}

	seg := segmentPath(0)
	body := spillBody(seg)
	tag := bodyETag([]byte(body))
	cases := []struct {
		name   string
		method string
		header map[string]string
		status int
		body   string
	}{
		{"get", "GET", nil, 200, body},
		{"range", "GET", map[string]string{"Range": "bytes=100-199"}, 206, body[100:200]},
		{"suffix range", "GET", map[string]string{"Range": "bytes=-10"}, 206, body[5990:]},
		{"head", "HEAD", nil, 200, ""},
		{"precondition", "GET", map[string]string{"If-None-Match": tag}, 304, ""},
	}
	for _, tc := range cases {
		r := do(t, nil, tc.method, e.url+seg, tc.header)
		if r.status != tc.status || r.body != tc.body || r.cache() != "HIT" {
			t.Errorf("%s: %d X-Cache %q %d bytes, want %d HIT %d bytes", tc.name, r.status, r.cache(), len(r.body), tc.status, len(tc.body))
		}
		if tc.status == 200 && (r.header.Get("Content-Length") != "6000" || r.header.Get("ETag") != tag ||
			r.header.Get("Content-Type") != "video/iso.segment") {
			t.Errorf("%s: headers %v", tc.name, r.header)
		}
	}
	if n := up.count(seg); n != 1 {
		t.Errorf("upstream asked for %s %d times, want 1", seg, n)
	}
	if v := counterValue(e.metrics.spillHits); v != 4 {
		t.Errorf("spill hits %v, want 4 (the 304 is answered from the index)", v)
	}
	// A playlist evicted from memory is gone, never spilled.
	if r := get(t, e.url+"/live/c/720p/index.m3u8"); r.cache() != "MISS" {
		t.Errorf("evicted playlist: X-Cache %q, want MISS", r.cache())
	}
}

func TestSpillBudgetIsLRU(t *testing.T) {
	dir := t.TempDir()
	up := spillUpstream(t)
	e := startEdge(t, Config{Upstreams: []string{up.URL}, CacheBytes: 64 << 10, SpillDir: dir, SpillBytes: 20000}, nil)
	eventually(t, 5*time.Second, "the spill ready", func() bool {
		e.spill.mu.Lock()
		defer e.spill.mu.Unlock()
		return e.spill.ready
	})
	for i := range 16 {
		get(t, e.url+segmentPath(i))
		spillSettledOrEmpty(t, e)
	}
	spillSettled(t, e, dir)
	files := spillFiles(t, dir)
	var total int64
	for _, size := range files {
		total += size
	}
	if len(files) != 3 || total > 20000 {
		t.Fatalf("%d files, %d bytes on disk; want 3 within 20000", len(files), total)
	}
	// The newest evictions are kept; the oldest went first.
	for i := range 16 {
		inSpill := e.spill.get(segmentPath(i), false) != nil
		if inSpill && i < 3 {
			t.Errorf("segment %d still spilled, want it dropped first", i)
		}
	}
	if r := get(t, e.url+segmentPath(0)); r.cache() != "MISS" || up.count(segmentPath(0)) != 2 {
		t.Errorf("dropped object: X-Cache %q, upstream asked %d times; want MISS, 2", r.cache(), up.count(segmentPath(0)))
	}
}

// spillSettledOrEmpty waits for the writer to drain its queue.
func spillSettledOrEmpty(t *testing.T, e *testEdge) {
	eventually(t, 5*time.Second, "spill queue drained", func() bool {
		e.spill.mu.Lock()
		defer e.spill.mu.Unlock()
		return len(e.spill.queue) == 0
	})
}

// TestSpillDiskFailure replaces the spill directory with a file while the
// edge runs (as a full or failed disk would refuse writes): every write
// and read fails, is counted and logged once, and viewers are still
// served from upstream.
func TestSpillDiskFailure(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spill")
	up := spillUpstream(t)
	e, logs := startEdgeLog(t, Config{Upstreams: []string{up.URL}, CacheBytes: 64 << 10, SpillDir: dir})
	eventually(t, 5*time.Second, "the spill dir created", func() bool {
		_, err := os.Stat(dir)
		return err == nil
	})
	for i := range 12 {
		get(t, e.url+segmentPath(i))
	}
	spillSettled(t, e, dir)
	spilled := len(spillFiles(t, dir))

	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 12; i < 30; i++ {
		if r := get(t, e.url+segmentPath(i)); r.status != 200 || r.body != spillBody(segmentPath(i)) {
			t.Fatalf("segment %d with a failing disk: %d", i, r.status)
		}
	}
	eventually(t, 5*time.Second, "write errors counted", func() bool {
		return counterValue(e.metrics.spillErrors.WithLabelValues("write")) >= 10
	})
	// Objects spilled before the failure: the read fails, upstream serves.
	for i := range spilled {
		p := segmentPath(i)
		if r := get(t, e.url+p); r.status != 200 || r.body != spillBody(p) {
			t.Errorf("%s after the disk failed: %d, %d bytes", p, r.status, len(r.body))
		}
	}
	if v := counterValue(e.metrics.spillErrors.WithLabelValues("read")); v < 1 {
		t.Errorf("read errors %v, want at least 1", v)
	}
	if v := counterValue(e.metrics.spillHits); v != 0 {
		t.Errorf("spill hits %v, want 0", v)
	}
	lines := logs.matching("spill")
	if len(lines) != 1 || !strings.Contains(lines[0], "failed") {
		t.Errorf("spill failure log lines %q, want one (rate limited)", lines)
	}
}

func TestSpillNames(t *testing.T) {
	a, b := spillName("/live/c/720p/1.m4s", 1), spillName("/live/c/720p/1.m4s", 2)
	if a == b || !isSpillName(a) || !strings.HasPrefix(b, a[:32]) {
		t.Errorf("names %q %q: want one hash, distinct sequence numbers", a, b)
	}
	for _, name := range []string{"keep.txt", "x.spill", strings.Repeat("g", 32) + "-1.spill", a + ".tmp", a[:33] + "x.spill"} {
		if isSpillName(name) {
			t.Errorf("isSpillName(%q) = true", name)
		}
	}
}

func TestSpillRevalidation(t *testing.T) {
	clock := newFakeClock()
	dir := t.TempDir()
	up := newRevalidatingUpstream(t) // small bodies, max-age=2, 304 on a match
	e := startEdge(t, Config{Upstreams: []string{up.URL}, CacheBytes: 64 << 10, SpillDir: dir, Now: clock.Now}, nil)
	eventually(t, 5*time.Second, "the spill ready", func() bool {
		e.spill.mu.Lock()
		defer e.spill.mu.Unlock()
		return e.spill.ready
	})
	for i := range 150 {
		get(t, e.url+segmentPath(i))
	}
	spillSettled(t, e, dir)
	seg := segmentPath(0)
	if e.spill.get(seg, false) == nil {
		t.Fatalf("%s not spilled", seg)
	}
	clock.Advance(3 * time.Second) // expired: the fill revalidates the spilled copy
	r := get(t, e.url+seg)
	if r.status != 200 || r.body != seg+" version 1" || r.header.Get("X-Refreshed") != "yes" {
		t.Fatalf("revalidated spilled object: %d %q %v", r.status, r.body, r.header)
	}
	if up.conditional.Load() != 1 {
		t.Errorf("conditional requests %d, want 1", up.conditional.Load())
	}
	// The refreshed object is back in memory; the spilled copy is gone.
	if r := get(t, e.url+seg); r.cache() != "HIT" || e.spill.get(seg, false) != nil {
		t.Errorf("after the refresh: X-Cache %q, still spilled %v", r.cache(), e.spill.get(seg, false) != nil)
	}
}
