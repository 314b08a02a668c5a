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
// COLLAPSED or STALE. Upstream requests are plain GETs of the normalized
// target: no viewer header (cookies, Authorization, Range, Cache-Control)
// is forwarded, and a viewer cannot force an upstream fetch. When no
// upstream answers, viewers get 502 (504 on a timeout) with no-store; when
// the last upstream tried answers 5xx, that answer is passed on uncached.
// Cache-Control plus Age is how a downstream cache
// (another edge, a browser, a CDN) computes the lifetime that is left
// (RFC 9111 section 4.2.3); rewriting max-age as well would make it count
// the time twice.
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
// # Imports and concurrency
//
// edge imports no other onair package. An Edge's handler is safe for
// concurrent use. Run owns the probe loop; fills run in goroutines of
// their own, each bounded by Config.UpstreamTimeout without progress (or
// BlockTimeout for the response head of a blocking reload).
package edge
