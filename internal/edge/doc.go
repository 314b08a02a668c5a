// Package edge is the edge role: an HTTP caching reverse proxy for onair's
// playback URLs (internal/origin's doc lists them), usable in front of any
// HLS or DASH origin and in front of another edge acting as origin shield.
//
// # Cache
//
// Responses are kept in memory, least recently used first out, within
// Config.CacheBytes. The edge obeys the upstream's Cache-Control (RFC 9111):
// it stores 200 and 404 responses that carry a freshness lifetime
// (s-maxage, else max-age, minus the upstream's Age) and no no-store,
// private or no-cache; never 5xx, never a response without max-age or
// s-maxage (Expires is ignored), never a response with Vary. The cache key
// is the path plus the query with its parameters sorted and the viewer-
// specific ones (Config.StripParams: tokens, session ids, analytics tags)
// removed; the same normalized URL is what the edge asks upstream, so the
// LL-HLS directives _HLS_msn, _HLS_part and _HLS_skip are kept and every
// blocking playlist reload has its own entry. GET and HEAD share entries;
// a single byte range is served from the cached bytes.
//
// Responses carry the upstream's headers (hop-by-hop ones and Set-Cookie
// removed), Cache-Control unchanged, Age (seconds since the upstream made
// the response, the upstream's own Age included) and X-Cache: HIT, MISS,
// COLLAPSED or STALE. A 200 whose upstream sent no ETag gets a strong one
// derived from the body (the first 128 bits of its SHA-256, computed once
// per stored object), so every edge of a tier gives the same bytes the
// same tag. Upstream requests are plain GETs of the normalized
// target: no viewer header (cookies, Authorization, Range, Cache-Control)
// is forwarded, and a viewer cannot force an upstream fetch. When no
// upstream answers, viewers get 502 (504 on a timeout) with no-store; when
// the last upstream tried answers 5xx, that answer is passed on uncached.
// Cache-Control plus Age is how a downstream cache
// (another edge, a browser, a CDN) computes the lifetime that is left
// (RFC 9111 section 4.2.3); rewriting max-age as well would make it count
// the time twice.
//
// # Disk spill
//
// With Config.SpillDir set, immutable 200s (segments, parts, init
// segments; never manifests, never 404s) evicted from memory are written
// there, one file per object named by a hash of the cache key, within
// Config.SpillBytes, least recently used first out; only the metadata
// stays in memory. A memory miss checks the spill before going upstream
// and serves the file (X-Cache: HIT, byte ranges too). Evictions happen
// under the cache lock, so they only queue the body (at most a quarter of
// CacheBytes waits; beyond, objects are dropped and counted); Run writes
// the files and, when it starts, removes the spill files an earlier run
// left (files with other names are kept). A failed write (a full or
// failed disk) or read drops the object with a counter and a log line at
// most every 10 s: a request never fails because of the spill, the next
// one goes upstream. A newer response for a key replaces its spilled copy.
//
// # Conditional requests
//
// A viewer's If-None-Match (weak comparison, "*" included) or, without
// it, If-Modified-Since (against Last-Modified, else the time the edge
// received the response) is evaluated against a cached 200, or against a
// fill's 200 once its head (or, for the edge's own tag, its whole body)
// is in, and a match is answered 304 Not Modified with the fields RFC
// 9110 section 15.4.5 lists (RFC 9110 section 13, RFC 9111 section
// 4.3.2). If-Range uses the strong comparison. When an expired stored
// 200 is refreshed, the fill is conditional (If-None-Match with the
// stored tag, If-Modified-Since with its Last-Modified): a 304 naming the
// same tag (or none) refreshes the stored response's header fields and
// freshness (RFC 9111 section 4.3.4) and the waiters get the stored body;
// a spilled body is read from its file.
//
// # Collapsing
//
// However many requests arrive for a key that is missing or expired, one
// upstream request is made (a fill). Every request joins the fill as a
// waiter with its own read cursor and receives the body as it streams in.
// A waiter watches its own request context; the fill is canceled only when
// every waiter has gone away unserved (a HEAD or a byte range answered
// before the body is complete lets the fill finish into the cache). LL-HLS blocking playlist reloads are collapsed
// the same way and may be held upstream for Config.BlockTimeout.
//
// # Stale content
//
// An expired playlist or MPD is served stale for up to one more freshness
// lifetime (or the stale-while-revalidate directive's window) while one
// background fill refreshes it. Segments, parts and init segments are
// immutable: when the upstream fails, a stale copy is served for as long
// as it is cached (or within the stale-if-error directive's window).
//
// # Origin group
//
// Config.Upstreams is an origin group: the first is primary. A connect
// error, a timeout or a 5xx moves the request to the next upstream and
// marks the failed one down; down upstreams are tried last, so a viewer
// gets an error only when no upstream answers. Run probes down upstreams
// and brings one back after it has been healthy for Config.FailBackAfter.
// A 503 answer to a blocking playlist reload is the origin's hold timeout,
// not a failure: it is passed on.
//
// Per channel (the first path element after /live/), the group also
// watches how far each upstream's media playlists reach: when the one
// that answered has not advanced for Config.StaleManifestAfter (default
// 3 x its EXT-X-TARGETDURATION) while another upstream is up, the same
// playlist is asked from the next upstream (at most once per target
// duration); if that one is ahead, its answer is served and the stale
// upstream goes after the fresh ones for the channel's requests
// (playlists, MPD and objects alike: objects are interchangeable across
// pipelines on the channel clock), with a metric and a log line giving
// the reason. Before a blocking reload, which a frozen upstream would
// only hold, the same comparison runs on the channel's last plain
// playlist. Run probes the stale upstream's playlist and fails back once
// it has moved again and is at most one segment behind the newest any
// upstream answered. Other channels keep their order.
//
// # Manifest age and alarms
//
// onair_edge_manifest_age_seconds{channel} is the time since the newest
// segment or part in any of the channel's media playlists changed. Every
// 250 ms Run compares it with Config.ManifestAlarmAfter (default 2 x the
// target duration) and reports each transition once: raised (only while
// viewers keep the edge asking for the channel's playlists: a channel
// nobody watches is not judged), then cleared when the playlists move
// again. Each sets
// onair_edge_manifest_alarm{channel}, logs a line and calls
// Config.OnAlarm from Run's goroutine with no lock held (a slow callback
// delays the next check, never a viewer).
//
// # Circuit breaker and slate
//
// Every upstream fill counts as a success or a failure (no answer from
// any upstream of the group, or a 5xx) in a sliding window
// (Config.Breaker: default 10 s). When at least MinRequests outcomes are
// in it and ErrorRate of them failed, the circuit opens: no viewer
// request goes upstream; cached objects of any age are served; an
// uncached object gets 503 with Retry-After. One probe per ProbeInterval
// (half-open) fetches a playlist that answered before, and an answer
// below 500 closes the circuit (onair_edge_breaker_open,
// onair_edge_breaker_transitions_total).
//
// While the circuit is open, an onair media playlist the edge has served
// before continues as a slate: segments the edge makes itself
// ("_slate-{n}.m4s" and "_slate-init.mp4" next to the rendition's own),
// numbered on from the newest live segment and added as the clock passes
// each one, after a discontinuity. The picture (Config.Slate: a text card
// or an image, with AAC silence) is rendered once per rendition shape by
// ffmpeg (internal/slate) in the background as soon as the multivariant
// playlist and a media playlist of the rendition have been seen, and
// re-timed so slate segment n starts at n x D, where live segment n
// would. When the upstream is back, the slate stops growing, and the
// live segments take over after the last slate one with a second
// discontinuity; numbers that were slate stay slate, and the
// discontinuity sequence counts the edge's own discontinuities, so no
// segment ever changes in a playlist a player has read. The parts of
// complete segments are dropped while the playlist ends in slate (a
// player seeing parts expects the next number to be in progress). DASH
// and playlists the edge has never served get no slate: cached copies,
// then 503. While the circuit is closed, a failed fill of a media
// playlist is answered with the newest copy the edge has, so a player
// sees a playlist that does not advance for a moment instead of an error.
//
// # Imports and concurrency
//
// edge imports no role, only internal/httprange and internal/slate. An
// Edge's handler is safe for concurrent use. Run owns the probe loops
// (upstreams and circuit), the spill writer, the alarm loop and the slate
// renderer; fills run in goroutines of their own,
// each bounded by Config.UpstreamTimeout without progress (or
// BlockTimeout for the response head of a blocking reload).
package edge
