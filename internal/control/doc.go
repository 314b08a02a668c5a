// Package control is onair's control plane at the edge of the process: the
// REST API under /api/v1, the embedded web dashboard, and the HTTP client and
// cobra commands behind `onair channel ...`.
//
// The API manages channels through a Manager that the app implements; this
// package only speaks HTTP: it routes, authenticates, validates input, maps
// the Manager's sentinel errors (ErrNotFound, ErrConflict, ErrInvalid) to
// 404/409/400, and writes JSON. Every error response is {"error": "..."};
// internal errors become a generic 500 and are logged once with details.
//
// Endpoints (see api.go):
//
//	GET    /api/v1/channels                 list: {"channels": [...]}
//	POST   /api/v1/channels                 create {"name": "...", "low_latency": bool} -> 201
//	GET    /api/v1/channels/{name}          one channel
//	DELETE /api/v1/channels/{name}          delete -> 204
//	POST   /api/v1/channels/{name}/stop     disable (publishers are refused) -> 200
//	POST   /api/v1/channels/{name}/start    enable -> 200
//	GET    /                                dashboard: channel list
//	GET    /channels/{name}                 dashboard: player page (?player=hls|dash, ?ll=1)
//	GET    /assets/...                      dashboard CSS, JS and vendored players
//
// Access (see auth.go): with no operator token configured only loopback
// clients are served, so a fresh install is never open to the network by
// accident. With a token, /api requires "Authorization: Bearer <token>"; the
// dashboard accepts ?token=<token> once, then an HttpOnly, SameSite=Strict
// session cookie that also authorizes the dashboard's read-only API calls.
//
// The dashboard is plain HTML, CSS and JavaScript embedded with go:embed (no
// build step). The player libraries (hls.js, dash.js) are copied into
// web/vendor by scripts/vendor-web.sh; the binary builds without them and the
// player page says so when they are missing.
//
// control imports no other internal package: the app adapts its roles to
// Manager. Concurrency: an API is safe for concurrent use once built; the
// Manager must be too. Client is safe for concurrent use.
package control
