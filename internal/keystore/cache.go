package keystore

import (
	"container/list"
	"sync"
	"time"
)

// cache is a bounded LRU of decrypted keys with a time to live. It is safe
// for concurrent use; a nil *cache caches nothing.
type cache struct {
	size int
	ttl  time.Duration
	now  func() time.Time

	mu    sync.Mutex
	order *list.List // of *cacheEntry, most recently used first
	byKey map[string]*list.Element
}

type cacheEntry struct {
	kvk     string
	key     Key
	expires time.Time
}

func newCache(size int, ttl time.Duration, now func() time.Time) *cache {
	if size <= 0 {
		return nil
	}
	return &cache{size: size, ttl: ttl, now: now, order: list.New(), byKey: map[string]*list.Element{}}
}

// get returns a copy of the cached key under kvk.
func (c *cache) get(kvk string) (Key, bool) {
	if c == nil {
		return Key{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[kvk]
	if !ok {
		return Key{}, false
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.expires) {
		c.remove(el)
		return Key{}, false
	}
	c.order.MoveToFront(el)
	return e.key.clone(), true
}

// put caches a copy of k under kvk, evicting the least recently used.
func (c *cache) put(kvk string, k Key) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[kvk]; ok {
		c.remove(el)
	}
	c.byKey[kvk] = c.order.PushFront(&cacheEntry{kvk: kvk, key: k.clone(), expires: c.now().Add(c.ttl)})
	for c.order.Len() > c.size {
		c.remove(c.order.Back())
	}
}

// forget drops the keys whose bucket key has prefix ("" drops all).
func (c *cache) forget(prefix string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.order.Front(); el != nil; {
		next := el.Next()
		if e := el.Value.(*cacheEntry); len(e.kvk) >= len(prefix) && e.kvk[:len(prefix)] == prefix {
			c.remove(el)
		}
		el = next
	}
}

func (c *cache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

func (c *cache) remove(el *list.Element) {
	e := c.order.Remove(el).(*cacheEntry)
	clear(e.key.Value) // best effort: drop the plain key from memory
	delete(c.byKey, e.kvk)
}
