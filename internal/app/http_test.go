package app

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCanonicalPaths(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := canonicalPaths(ok)
	tests := []struct {
		path string
		want int
	}{
		{"/live/a/master.m3u8", http.StatusTeapot},
		{"/", http.StatusTeapot},
		{"/channels/", http.StatusTeapot},
		{"/live/../etc/passwd", http.StatusBadRequest},
		{"/live/./a", http.StatusBadRequest},
		{"/live//a", http.StatusBadRequest},
		{"/live/a/..", http.StatusBadRequest},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "http://x/", nil)
		r.URL.Path = tt.path
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.want {
			t.Errorf("%s: %d, want %d", tt.path, w.Code, tt.want)
		}
	}
}

// A request that outlives the grace period (an LL-HLS blocking reload, say)
// is cut and shutdown still succeeds.
func TestShutdownCutsLongRequests(t *testing.T) {
	started := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	}))
	srv.Start()
	defer srv.Close()
	go http.Get(srv.URL)
	<-started
	start := time.Now()
	if err := shutdown(srv.Config, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > shutdownGrace+2*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
}
