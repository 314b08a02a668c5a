package edge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowBody is a 1 MB body the upstream streams in 10 chunks over ~1 s.
var slowBody = func() []byte {
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = byte(i * 7 / 3)
	}
	return b
}()

// slowUpstream streams slowBody in chunks, pausing between them; it
// records when it finished sending.
type slowUpstream struct {
	*countingUpstream
	finished atomic.Int64 // unix nanoseconds
	canceled chan struct{}
}

func newSlowUpstream(t *testing.T, chunks int, pause time.Duration) *slowUpstream {
	s := &slowUpstream{canceled: make(chan struct{}, 16)}
	s.countingUpstream = newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=12")
		w.Header().Set("Content-Type", "video/iso.segment")
		w.Header().Set("Content-Length", strconv.Itoa(len(slowBody)))
		step := (len(slowBody) + chunks - 1) / chunks
		for i := 0; i < len(slowBody); i += step {
			if i > 0 {
				select {
				case <-time.After(pause): // the upstream is slow on purpose
				case <-r.Context().Done():
					s.canceled <- struct{}{}
					return
				}
			}
			if _, err := w.Write(slowBody[i:min(i+step, len(slowBody))]); err != nil {
				s.canceled <- struct{}{}
				return
			}
			w.(http.Flusher).Flush()
		}
		s.finished.Store(time.Now().UnixNano())
	})
	return s
}

func TestCollapseStreamsOneFillToManyClients(t *testing.T) {
	const clients = 1000
	up := newSlowUpstream(t, 10, 100*time.Millisecond)
	e := startEdge(t, Config{Upstreams: []string{up.URL}}, nil)
	client := manyClients(t, clients)
	want := crc32.ChecksumIEEE(slowBody)

	var (
		wg         sync.WaitGroup
		firstBytes = make([]int64, clients)
		errs       = make(chan error, clients)
		labels     sync.Map
	)
	for i := range clients {
		wg.Go(func() {
			// Each viewer has its own token: stripped from the key.
			resp, err := client.Get(fmt.Sprintf("%s/live/c/720p/5.m4s?token=%d", e.url, i))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var one [1]byte
			if _, err := io.ReadFull(resp.Body, one[:]); err != nil {
				errs <- fmt.Errorf("client %d: first byte: %w", i, err)
				return
			}
			firstBytes[i] = time.Now().UnixNano()
			h := crc32.NewIEEE()
			h.Write(one[:])
			n, err := io.Copy(h, resp.Body)
			if err != nil || n+1 != int64(len(slowBody)) || h.Sum32() != want || resp.StatusCode != 200 {
				errs <- fmt.Errorf("client %d: status %d, %d bytes, crc %x, err %v", i, resp.StatusCode, n+1, h.Sum32(), err)
				return
			}
			c, _ := labels.LoadOrStore(resp.Header.Get("X-Cache"), new(atomic.Int64))
			c.(*atomic.Int64).Add(1)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := up.total.Load(); n != 1 {
		t.Fatalf("upstream saw %d requests, want 1", n)
	}
	early := 0
	for _, fb := range firstBytes {
		if fb != 0 && fb < up.finished.Load() {
			early++
		}
	}
	if early == 0 {
		t.Errorf("no client received bytes before the upstream finished: store-and-forward, not streaming")
	}
	counts := map[string]int64{}
	labels.Range(func(k, v any) bool { counts[k.(string)] = v.(*atomic.Int64).Load(); return true })
	t.Logf("%d of %d clients got their first byte before the upstream finished; X-Cache %v", early, clients, counts)
	if counts["MISS"] != 1 {
		t.Errorf("X-Cache MISS count %d, want 1", counts["MISS"])
	}
}

func TestCollapseBlockingPlaylist(t *testing.T) {
	const clients = 1000
	const target = "/live/c/720p/index.m3u8?_HLS_msn=12&_HLS_part=1"
	release := make(chan struct{})
	playlist := "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:10\n#EXTINF:2,\n10.m4s\n#EXTINF:2,\n11.m4s\n" +
		"#EXT-X-PART:DURATION=0.5,URI=\"12.0.m4s\"\n#EXT-X-PART:DURATION=0.5,URI=\"12.1.m4s\"\n"
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		select { // hold like an origin's blocking reload
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=1")
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		io.WriteString(w, playlist)
	})
	// UpstreamTimeout (which also bounds the dial) is short but not so
	// short that a loaded machine's dial misses it; the origin holds the
	// reload longer than it below, so only BlockTimeout can govern.
	e := startEdge(t, Config{Upstreams: []string{up.URL}, UpstreamTimeout: time.Second, BlockTimeout: 30 * time.Second}, nil)
	client := manyClients(t, clients)

	var wg sync.WaitGroup
	var retries atomic.Int64
	errs := make(chan error, clients)
	for i := range clients {
		wg.Go(func() {
			url := fmt.Sprintf("%s/live/c/720p/index.m3u8?_HLS_part=1&sid=%d&_HLS_msn=12", e.url, i)
			resp, err := client.Get(url)
			// A CPU-starved race run can lose a connection before its
			// request is read; a viewer would retry, and a retry joins
			// the same held fill (it is counted as collapsed too).
			for try := 0; err != nil && try < 3; try++ {
				retries.Add(1)
				resp, err = client.Get(url)
			}
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 || string(b) != playlist {
				errs <- fmt.Errorf("client %d: status %d body %q err %v", i, resp.StatusCode, b, err)
			}
		})
	}
	// Every client joins the one held request; only then does the origin
	// answer. A client that failed for good never joins: stop waiting.
	deadline := time.Now().Add(60 * time.Second)
	for counterValue(e.metrics.collapsed) < clients-1 && len(errs) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after 60s only %v of %d clients joined the held request (retries %d, upstream requests %d)",
				counterValue(e.metrics.collapsed)+1, clients, retries.Load(), up.total.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r := retries.Load(); r > 0 {
		t.Logf("%d client retries after transport errors", r)
	}
	time.Sleep(1500 * time.Millisecond) // held past UpstreamTimeout
	if n := up.count(target); n != 1 || up.total.Load() != 1 {
		t.Fatalf("upstream saw %d requests for the blocking reload (%d in all), want 1", n, up.total.Load())
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := up.total.Load(); n != 1 {
		t.Errorf("upstream saw %d requests, want 1", n)
	}
}

func TestClientLeavingMidFill(t *testing.T) {
	up := newSlowUpstream(t, 20, 25*time.Millisecond)
	e := startEdge(t, Config{Upstreams: []string{up.URL}}, nil)
	client := manyClients(t, 10)

	// The leaver starts the fill, reads a little and goes away.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/seg.m4s", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	bodies := make([][]byte, 5)
	for i := range bodies {
		wg.Go(func() {
			r := get(t, e.url+"/seg.m4s")
			bodies[i] = []byte(r.body)
		})
	}
	eventually(t, 10*time.Second, "waiters joined", func() bool { return counterValue(e.metrics.collapsed) == 5 })
	cancel()
	resp.Body.Close()
	wg.Wait()
	for i, b := range bodies {
		if !bytes.Equal(b, slowBody) {
			t.Errorf("waiter %d got %d bytes, want the whole body", i, len(b))
		}
	}
	if n := up.total.Load(); n != 1 {
		t.Errorf("upstream saw %d requests, want 1", n)
	}
	if r := get(t, e.url+"/seg.m4s"); r.cache() != "HIT" {
		t.Errorf("after the fill: X-Cache %q, want HIT", r.cache())
	}
}

func TestEveryWaiterLeavingCancelsFill(t *testing.T) {
	up := newSlowUpstream(t, 20, 50*time.Millisecond)
	e := startEdge(t, Config{Upstreams: []string{up.URL}}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/seg.m4s", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	select {
	case <-up.canceled:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream request was not canceled when the only viewer left")
	}
	// The next viewer starts a new fill and gets the whole object.
	if r := get(t, e.url+"/seg.m4s"); r.status != 200 || r.body != string(slowBody) || r.cache() != "MISS" {
		t.Errorf("after an abandoned fill: %d, %d bytes, X-Cache %q", r.status, len(r.body), r.cache())
	}
}

func TestUpstreamFailingMidBodyAbortsViewers(t *testing.T) {
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=12")
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "short")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	})
	e := startEdge(t, Config{Upstreams: []string{up.URL}}, nil)
	resp, err := http.Get(e.url + "/x.m4s")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("viewer read error %v, want unexpected EOF", err)
	}
	// Not cached: the next viewer goes upstream again.
	resp, err = http.Get(e.url + "/x.m4s")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Header.Get("X-Cache") != "MISS" || up.total.Load() != 2 {
		t.Errorf("incomplete response was cached: X-Cache %q, upstream saw %d", resp.Header.Get("X-Cache"), up.total.Load())
	}
}

// TestHeadAndRangeOnAMissFinishTheFill: a viewer served in full before the
// body has arrived (a HEAD, a short range) does not abandon the fill.
func TestHeadAndRangeOnAMissFinishTheFill(t *testing.T) {
	for _, header := range []map[string]string{nil, {"Range": "bytes=0-99"}} {
		method := http.MethodHead
		if header != nil {
			method = http.MethodGet
		}
		t.Run(method, func(t *testing.T) {
			up := newSlowUpstream(t, 10, 30*time.Millisecond)
			e := startEdge(t, Config{Upstreams: []string{up.URL}}, nil)
			r := do(t, nil, method, e.url+"/seg.m4s", header)
			if r.cache() != "MISS" || (method == http.MethodGet && r.body != string(slowBody[:100])) {
				t.Fatalf("%s: X-Cache %q, %d bytes", method, r.cache(), len(r.body))
			}
			select {
			case <-up.canceled:
				t.Fatal("the fill was canceled")
			case <-time.After(500 * time.Millisecond):
			}
			if r := get(t, e.url+"/seg.m4s"); r.cache() != "HIT" || r.body != string(slowBody) || up.total.Load() != 1 {
				t.Errorf("after: X-Cache %q, %d bytes, upstream saw %d", r.cache(), len(r.body), up.total.Load())
			}
		})
	}
}
