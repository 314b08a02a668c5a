package control

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

// webFiles is the dashboard: HTML pages, CSS, JS, and whatever player
// libraries scripts/vendor-web.sh put into web/vendor when the binary was
// built (vendor/README.md keeps the directory, so it builds without them).
//
//go:embed web
var webFiles embed.FS

// contentSecurityPolicy allows our own scripts and styles only. Media and
// manifest fetches may go to another origin (the edge may listen elsewhere),
// and MSE players need blob: for media and for hls.js's worker.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; media-src 'self' blob: data: http: https:; " +
	"connect-src 'self' http: https:; worker-src 'self' blob:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// dashboard serves the embedded web files.
type dashboard struct {
	files fs.FS
	etags map[string]string // path in files -> strong ETag
}

func newDashboard() (*dashboard, error) {
	files, err := fs.Sub(webFiles, "web")
	if err != nil {
		return nil, fmt.Errorf("dashboard files: %w", err)
	}
	d := &dashboard{files: files, etags: map[string]string{}}
	// Embedded files have no modification time; content hashes give
	// browsers cheap revalidation of the larger player libraries.
	err = fs.WalkDir(files, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		d.etags[p] = `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dashboard files: %w", err)
	}
	return d, nil
}

// page serves one HTML page.
func (d *dashboard) page(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.serveFile(w, r, name)
	})
}

// channelPage serves the player page for a valid channel name; the page
// itself asks the API whether the channel exists.
func (d *dashboard) channelPage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ValidChannelName(r.PathValue("name")) {
			d.notFound().ServeHTTP(w, r)
			return
		}
		d.serveFile(w, r, "channel.html")
	})
}

// assets serves /assets/{path} from the web files. Directories are not
// listed.
func (d *dashboard) assets() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/assets/")
		if _, ok := d.etags[p]; !ok {
			d.notFound().ServeHTTP(w, r)
			return
		}
		d.serveFile(w, r, p)
	})
}

func (d *dashboard) notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("onair: page not found\n"))
	})
}

// serveFile writes one embedded file with security and caching headers;
// http.ServeContent handles Range, HEAD and If-None-Match.
func (d *dashboard) serveFile(w http.ResponseWriter, r *http.Request, p string) {
	f, err := d.files.Open(p)
	if err != nil {
		d.notFound().ServeHTTP(w, r)
		return
	}
	defer f.Close()
	content, ok := f.(io.ReadSeeker)
	if !ok { // embed.FS files always seek
		d.notFound().ServeHTTP(w, r)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", d.etags[p])
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if strings.HasSuffix(p, ".html") {
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
	}
	http.ServeContent(w, r, p, time.Time{}, content)
}
