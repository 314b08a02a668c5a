package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"
)

// shutdownGrace is how long in-flight requests get to finish on shutdown.
const shutdownGrace = 5 * time.Second

// shutdown stops srv gracefully; requests still running after the grace
// period (LL-HLS blocking reloads, held parts, collapsed fills) are cut,
// which is a normal end of a live server, not an error.
func shutdown(srv *http.Server, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		log.Info("closing connections still busy after the shutdown grace period", "grace", shutdownGrace)
		return srv.Close()
	}
	return err
}

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
