package app

import (
	"net/http"
	"path"
	"strings"
)

// canonicalPaths answers 400 to a request whose path is not canonical (dot
// segments, doubled slashes, NUL) instead of letting http.ServeMux redirect
// it to a cleaned path: a traversal attempt gets a refusal, not a hint.
func canonicalPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		clean := path.Clean(p)
		if strings.HasSuffix(p, "/") && clean != "/" {
			clean += "/"
		}
		if p == "" || p[0] != '/' || clean != p || strings.ContainsRune(p, 0) {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "bad request path", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
