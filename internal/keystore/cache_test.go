package keystore

import (
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	c := newCache(2, time.Minute, func() time.Time { return now })
	k := func(b byte) Key { return Key{Channel: "news", Value: []byte{b}} }
	c.put("news.a", k(1))
	c.put("news.b", k(2))
	if _, ok := c.get("news.a"); !ok { // a is now the most recently used
		t.Fatal("a not cached")
	}
	c.put("other.c", k(3))
	if _, ok := c.get("news.b"); ok {
		t.Fatal("b, the least recently used, was not evicted")
	}
	if c.len() != 2 {
		t.Fatalf("cache holds %d entries, want 2", c.len())
	}
	got, _ := c.get("news.a")
	got.Value[0] = 99 // a caller's change must not reach the cache
	if again, _ := c.get("news.a"); again.Value[0] != 1 {
		t.Fatal("cache returned its own slice")
	}
	c.forget("news.")
	if _, ok := c.get("news.a"); ok {
		t.Fatal("forget left news.a")
	}
	if _, ok := c.get("other.c"); !ok {
		t.Fatal("forget dropped other.c")
	}
	now = now.Add(time.Minute)
	if _, ok := c.get("other.c"); ok {
		t.Fatal("entry served after its TTL")
	}
	if c.len() != 0 {
		t.Fatalf("expired entry kept: %d", c.len())
	}
	var off *cache = newCache(-1, time.Minute, time.Now)
	off.put("x", k(1))
	if _, ok := off.get("x"); ok || off != nil {
		t.Fatal("disabled cache cached")
	}
}
