package e2e

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// rawGet sends a request line as written (no client-side cleaning of
// dot segments or encodings) and returns the status code.
func rawGet(t *testing.T, addr, target string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, addr)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("GET %q: %v", target, err)
	}
	var code int
	fmt.Sscanf(strings.TrimPrefix(line, "HTTP/1.1 "), "%d", &code)
	return code
}

// Hostile or nonsense playback URLs get a quick 4xx from the real server
// and never reach a file outside the media store.
func TestHostileURLs(t *testing.T) {
	s := startServer(t, "")
	s.createChannel(t, "real", false)
	addr := strings.TrimPrefix(s.base, "http://")
	tests := []struct {
		target string
		want   []int
	}{
		{"/live/nope/master.m3u8", []int{404}},
		{"/live/real/master.m3u8", []int{404}}, // exists, nothing published yet
		{"/live/real/720p/999.m4s", []int{404}},
		{"/live/../../etc/passwd", []int{400, 404}},
		{"/live/real/..%2f..%2f..%2fetc%2fpasswd/init.mp4", []int{400, 404}},
		{"/live/real/%2e%2e/%2e%2e/etc/passwd", []int{400, 404}},
		{"/live/real/source/../../../../etc/passwd", []int{400, 404}},
		{"/live/real/source/-1.m4s", []int{400, 404}},
		{"/live/real/source/1.99999.m4s", []int{400, 404}},
		{"/live/real/source/index.m3u8?_HLS_msn=abc", []int{400, 404}},
		{"/live/" + strings.Repeat("a", 4000) + "/master.m3u8", []int{400, 404, 414}},
		{"/live/real/source/%00.m4s", []int{400, 404}},
	}
	for _, tt := range tests {
		start := time.Now()
		code := rawGet(t, addr, tt.target)
		ok := false
		for _, w := range tt.want {
			ok = ok || code == w
		}
		name := tt.target
		if len(name) > 60 {
			name = name[:60] + "..."
		}
		if !ok {
			t.Errorf("GET %s: %d, want one of %v", name, code, tt.want)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("GET %s took %v", name, d)
		}
	}
	// The API refuses garbage too.
	if code := rawGet(t, addr, "/api/v1/channels/..%2f..%2fx"); code < 400 || code > 499 {
		t.Errorf("API traversal: %d", code)
	}
}
