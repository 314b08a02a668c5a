package miniotest

import (
	"net/http"
	"os"
	"strings"
	"testing"
)

// scripts/minio.sh builds the same MinIO the tests would.
func TestScriptBuildsSameModule(t *testing.T) {
	b, err := os.ReadFile("../../../scripts/minio.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `module="`+Module+`"`) {
		t.Errorf("scripts/minio.sh does not build %s", Module)
	}
}

func TestStopRestart(t *testing.T) {
	s := Start(t)
	live := func() bool {
		resp, err := http.Get("http://" + s.Endpoint + "/minio/health/live")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	if !live() {
		t.Fatal("not live after Start")
	}
	s.Stop(t)
	if live() {
		t.Fatal("still live after Stop")
	}
	s.Stop(t) // idempotent
	s.Restart(t)
	if !live() {
		t.Fatal("not live after Restart")
	}
}

func TestTailBuffer(t *testing.T) {
	tests := []struct {
		writes []string
		want   string
	}{
		{[]string{"ab", "cd"}, "abcd"},
		{[]string{"abcdef"}, "cdef"},
		{[]string{"abc", "defgh"}, "efgh"},
	}
	for _, tt := range tests {
		w := &tailBuffer{max: 4}
		for _, s := range tt.writes {
			w.Write([]byte(s))
		}
		if got := w.String(); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.writes, got, tt.want)
		}
	}
}
