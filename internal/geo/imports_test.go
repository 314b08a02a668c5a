package geo

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps geo a leaf: its non-test files import the standard
// library and maxminddb only.
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, spec := range f.Imports {
			path, _ := strconv.Unquote(spec.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if path != "github.com/oschwald/maxminddb-golang/v2" && strings.Contains(first, ".") || strings.HasPrefix(path, "onair/") && path != "onair/internal/clientip" {
				t.Errorf("%s imports %q: geo may import only the standard library, maxminddb and internal/clientip", name, path)
			}
		}
	}
}
