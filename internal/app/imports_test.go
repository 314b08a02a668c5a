package app

import (
	"os/exec"
	"strings"
	"testing"
)

// roles never import each other; only app (the composition root) imports
// roles. Leaf packages import at most media and clientip.
var (
	roles = []string{"ingest", "transcode", "packager", "origin", "edge", "control"}
	leafs = []string{"media", "config", "format/cmaf", "format/hls", "httprange", "objstore", "slate", "live", "stream", "store", "proc", "failover", "signing", "geo", "clientip"}
)

func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "onair/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	role := func(pkg string) string {
		for _, r := range roles {
			if pkg == "onair/internal/"+r || strings.HasPrefix(pkg, "onair/internal/"+r+"/") {
				return r
			}
		}
		return ""
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for _, imp := range imports {
			if !strings.HasPrefix(imp, "onair/") {
				continue
			}
			switch {
			case pkg == "onair/internal/app" || pkg == "onair/cmd/onair-bench":
				// app wires roles; the bench compares transcode.BuildArgs
				// with a raw ffmpeg on purpose.
			case role(imp) != "" && role(imp) != role(pkg):
				t.Errorf("%s imports the role %s: declare a small interface and let app pass it in", pkg, imp)
			}
			for _, l := range leafs {
				if pkg == "onair/internal/"+l && imp != "onair/internal/media" && imp != "onair/internal/clientip" {
					t.Errorf("leaf package %s imports %s", pkg, imp)
				}
			}
		}
	}
}
