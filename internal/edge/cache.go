package edge

import (
	"container/list"
	"net/http"
	"sync"
	"time"
)

// object is a complete cached response. It is immutable once stored,
// except for the entity tag derived from its body on first use.
type object struct {
	key      string
	status   int
	header   http.Header   // forwarded headers, without Age and Content-Length
	body     []byte        // nil when the body is only in the spill file
	stored   time.Time     // edge clock when the response arrived
	fresh    freshness     // lifetime, upstream Age, stale windows
	kind     requestKind   // manifest or object
	size     int64         // bytes charged to the budget
	elem     *list.Element // position in the LRU list
	upstream string        // who answered, for logs
	spilled  *spillEntry   // set on a view of a spilled object (never in the memory LRU)

	etagOnce sync.Once
	etag     string // bodyETag, computed once (preset on spill views)
}

// entityTag returns the ETag viewers see for a 200: the upstream's, else
// one derived from the body, computed the first time it is needed (off
// any lock) and then kept. Other statuses have none.
func (o *object) entityTag() string {
	if o.status != http.StatusOK {
		return ""
	}
	if et := o.header.Get("ETag"); et != "" {
		return et
	}
	o.etagOnce.Do(func() {
		if o.etag == "" {
			o.etag = bodyETag(o.body)
		}
	})
	return o.etag
}

// lastModified is the time If-Modified-Since is compared with: the
// Last-Modified field, else when the edge received the response (RFC 9111
// section 4.3.2; the upstream's Date is not kept).
func (o *object) lastModified() time.Time {
	if lm := o.header.Get("Last-Modified"); lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			return t
		}
	}
	return o.stored
}

// bodyLen is the body's length, in memory or in the spill file.
func (o *object) bodyLen() int64 {
	if o.body == nil && o.spilled != nil {
		return o.spilled.bodyLen
	}
	return int64(len(o.body))
}

// age is the object's current age (RFC 9111 section 4.2.3: the upstream's
// Age plus the time resident here).
func (o *object) age(now time.Time) time.Duration {
	return o.fresh.age + max(now.Sub(o.stored), 0)
}

// isFresh reports whether o may be served without going upstream.
func (o *object) isFresh(now time.Time) bool { return o.age(now) < o.fresh.lifetime }

// canRevalidateStale reports whether an expired o may be served while one
// fill refreshes it.
func (o *object) canRevalidateStale(now time.Time) bool {
	return o.status == http.StatusOK && o.age(now) < o.fresh.lifetime+o.fresh.swr
}

// canServeOnError reports whether an expired o may be served when the
// upstream fails.
func (o *object) canServeOnError(now time.Time) bool {
	if o.status != http.StatusOK {
		return false
	}
	return o.fresh.sie < 0 || o.age(now) < o.fresh.lifetime+o.fresh.sie
}

// objectOverhead approximates the memory of an object beyond its body and
// headers (struct, map, list element).
const objectOverhead = 512

// objectSize is what an object is charged against the budget.
func objectSize(key string, h http.Header, body []byte) int64 {
	n := int64(len(key)+len(body)) + objectOverhead
	for k, vs := range h {
		n += int64(len(k))
		for _, v := range vs {
			n += int64(len(v))
		}
	}
	return n
}

// cache is an LRU of objects within a byte budget. It does no locking:
// the Edge's mutex guards it. Immutable objects it evicts go to the
// spill, which answers its misses; the spill locks for itself and never
// does I/O under the Edge's mutex.
type cache struct {
	budget  int64
	size    int64
	lru     *list.List // front: most recently used
	items   map[string]*object
	metrics *metrics
	spill   *spill // nil: no disk spill
}

func newCache(budget int64, m *metrics) *cache {
	return &cache{budget: budget, lru: list.New(), items: make(map[string]*object), metrics: m}
}

// get returns the object under key, marking it recently used; on a
// memory miss, a view of the spilled object, if any.
func (c *cache) get(key string) *object {
	o := c.items[key]
	if o != nil {
		c.lru.MoveToFront(o.elem)
		return o
	}
	return c.spill.get(key, true)
}

// peek is get without marking anything used.
func (c *cache) peek(key string) *object {
	if o := c.items[key]; o != nil {
		return o
	}
	return c.spill.get(key, false)
}

// maxObject is the largest object the cache keeps: an eighth of the
// budget, so one object never flushes the whole cache.
func (c *cache) maxObject() int64 { return c.budget / 8 }

// put stores o, replacing any object under its key, and evicts the least
// recently used objects until the budget holds. It reports whether o was
// kept.
func (c *cache) put(o *object) bool {
	if old := c.items[o.key]; old != nil {
		c.remove(old)
	}
	c.spill.forget(o.key) // a newer response replaces the spilled one
	if o.size > c.maxObject() {
		c.report()
		return false
	}
	o.elem = c.lru.PushFront(o)
	c.items[o.key] = o
	c.size += o.size
	for c.size > c.budget {
		victim := c.lru.Back().Value.(*object)
		c.remove(victim)
		c.spill.add(victim)
	}
	c.report()
	return true
}

func (c *cache) remove(o *object) {
	c.lru.Remove(o.elem)
	delete(c.items, o.key)
	c.size -= o.size
}

func (c *cache) report() {
	c.metrics.cacheBytes.Set(float64(c.size))
	c.metrics.cacheObjects.Set(float64(len(c.items)))
}
