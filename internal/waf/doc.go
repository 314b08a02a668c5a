// Package waf is onair's web application firewall: an HTTP middleware
// that puts the Coraza engine (github.com/corazawaf/coraza/v3) with the
// OWASP core rule set (CRS 4, embedded by
// github.com/corazawaf/coraza-coreruleset/v4) in front of the API, token,
// key and license endpoints and the manifests, checks only the URL shape
// of media segment requests, and rate-limits every request per client
// address and per token.
//
// # Modes
//
// Config.Classify (default DefaultClassify) puts each request in one of
// two modes:
//
//   - ModeFull: the core rule set inspects the request line, headers and
//     body, in anomaly-scoring mode (Config.Paranoia, default 1;
//     Config.AnomalyThreshold, default 5). The body is read first, at most
//     Config.RequestBodyLimit bytes (413 beyond), and handed on to the
//     next handler unchanged. JSON bodies (application/json, and bodies
//     posted to .../license, see below) are parsed so their values are
//     inspected one by one. A full CRS pass costs about a millisecond of
//     CPU here, so it is not for every segment.
//   - ModeCheap: media segments, parts and init segments, requested
//     several times a second by every viewer. Only the method (GET, HEAD,
//     OPTIONS) and CheckURL: the path must be one of onair's playback
//     paths and the query may hold only the LL-HLS directives and
//     onair_token (plus Config.CheapParams). A few hundred nanoseconds.
//
// Both modes first apply the rate limits: Config.IPRate per client address
// (Config.ClientIP; an IPv6 client counts per /64) and Config.TokenRate
// per token (Config.Token: the onair_token parameter or cookie, or a
// bearer token). The limit tables hold at most Config.MaxClients entries
// each, least recently used out, and Run drops idle entries every 30 s.
//
// # Refusals
//
// A refused request never reaches the next handler. The client sees a
// short plain-text body and Cache-Control: no-store, never the rule:
//
//	403 forbidden (request id 3f9c1e2a7b6d4c10)      a rule or the URL shape
//	400 bad request (request id ...)                 a body the declared parser cannot read (rule 200002)
//	413 request body too large (request id ...)      over RequestBodyLimit
//	429 too many requests, Retry-After: seconds      a rate limit
//
// Each refusal is counted in onair_waf_blocked_total{reason} (rule,
// rate_ip, rate_token, url_shape, body_size) and logged at warning level
// with the request id, client ip, method and path; a rule refusal also
// names the interrupting rule (rule_id, 949110 when the anomaly score
// reached the threshold), the detection rules that matched (rules), the
// first one's message and matched data, and the anomaly score. A rate
// limit is logged once per run of refusals of a client; all refusal logs
// together are throttled to 10 lines a second (burst 50), with the count
// of suppressed lines on the next. onair_waf_requests_total{mode} counts
// requests by mode; onair_waf_tracked_clients and
// onair_waf_evicted_clients_total{limit} watch the limit tables.
//
// # Rules
//
// New compiles, in order: Coraza's recommended configuration with the
// engine On (not DetectionOnly), response inspection and the audit log
// off; the CRS setup with the paranoia level, threshold, and the methods
// onair's API uses (PATCH and DELETE added to CRS's default); onair's
// exclusions; the CRS request rules (REQUEST-*.conf); Config.Directives.
// onair's exclusions, each as narrow as it can be and explained where it
// is defined (engine.go):
//
//   - POSTs to a path ending in /license with no Content-Type or
//     text/plain (how EME players post a Clear Key license request) have
//     their body parsed as JSON, and only the Content-Type rule that they
//     break (920340 or 920420) is dropped.
//   - A lone onair_token parameter or cookie with exactly the signed-token
//     grammar (internal/signing) is left out of the attack rules' targets
//     (930000-944999): random base64url cannot carry an attack, and
//     scanning it more than doubled the cost of a playlist request.
//
// TestNormalTraffic runs the requests onair's players, CLI, dashboard and
// license clients make and must see none blocked; a new false positive
// gets a new exclusion here, with a comment, not a lower paranoia level.
//
// # Imports and concurrency
//
// waf imports the standard library, Coraza, the embedded CRS, Prometheus,
// internal/clientip (the peer address) and internal/live (object names).
// A WAF is safe for concurrent use; Run owns the only goroutine it starts
// and returns nil when its context is done.
package waf
