package app

import (
	"net/http"
	"net/http/httptest"
	"testing"
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
