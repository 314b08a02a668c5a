package tenant

import (
	"sync"
	"time"
)

// verifiedCache remembers key records that Authenticate read and verified,
// so a busy client costs a hash and a map lookup rather than a KV read per
// request. Entries live ttl at most (the revocation bound across nodes)
// and there are at most size of them.
type verifiedCache struct {
	ttl  time.Duration // <= 0: disabled
	size int

	mu sync.Mutex
	m  map[string]*cacheEntry // key id ->
}

type cacheEntry struct {
	key      APIKey // with Hash
	expires  time.Time
	lastUsed time.Time // LastUsed as this process last wrote or tried to write it
}

func newVerifiedCache(ttl time.Duration, size int) *verifiedCache {
	return &verifiedCache{ttl: ttl, size: size, m: map[string]*cacheEntry{}}
}

// get returns a copy of id's entry if it has not expired.
func (c *verifiedCache) get(id string, now time.Time) (cacheEntry, bool) {
	if c.ttl <= 0 {
		return cacheEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok {
		return cacheEntry{}, false
	}
	if !now.Before(e.expires) {
		delete(c.m, id)
		return cacheEntry{}, false
	}
	return *e, true
}

// put remembers a verified key. When full it first drops expired entries,
// then an arbitrary one: any entry is cheap to rebuild.
func (c *verifiedCache) put(k APIKey, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k.ID]; !ok && len(c.m) >= c.size {
		for id, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, id)
			}
		}
		for id := range c.m {
			if len(c.m) < c.size {
				break
			}
			delete(c.m, id)
		}
	}
	c.m[k.ID] = &cacheEntry{key: k, expires: now.Add(c.ttl), lastUsed: k.LastUsed}
}

// claimTouch reports whether the caller should write LastUsed for id now,
// and if so records that it is doing so, so concurrent requests do not all
// write. Keys not in the cache are always claimed.
func (c *verifiedCache) claimTouch(id string, lastUsed, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[id]; ok {
		lastUsed = e.lastUsed
		if now.Sub(lastUsed) < lastUsedEvery {
			return false
		}
		e.lastUsed = now
		return true
	}
	return now.Sub(lastUsed) >= lastUsedEvery
}

// drop forgets id (a revocation through this Store).
func (c *verifiedCache) drop(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// dropTenant forgets every key of tenant.
func (c *verifiedCache) dropTenant(tenant string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, e := range c.m {
		if e.key.Tenant == tenant {
			delete(c.m, id)
		}
	}
}

// len is the number of entries, for tests.
func (c *verifiedCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
