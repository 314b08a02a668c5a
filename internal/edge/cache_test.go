package edge

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func testObject(key string, n int) *object {
	body := make([]byte, n)
	return &object{key: key, status: http.StatusOK, body: body, size: objectSize(key, nil, body)}
}

func TestCacheLRUBudget(t *testing.T) {
	m, err := newMetrics(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newCache(80_000, m) // objects up to 10 000 bytes are kept
	for i := range 10 {
		c.put(testObject(fmt.Sprint(i), 9_000))
	}
	if c.size > c.budget {
		t.Fatalf("size %d over budget %d", c.size, c.budget)
	}
	// 9 512 bytes each: 8 fit; the two oldest went first.
	for i, want := range []bool{false, false, true, true, true, true, true, true, true, true} {
		if got := c.items[fmt.Sprint(i)] != nil; got != want {
			t.Errorf("object %d cached = %v, want %v", i, got, want)
		}
	}
	// Using 2 makes 3 the least recently used.
	c.get("2")
	c.put(testObject("10", 9_000))
	if c.items["3"] != nil || c.items["2"] == nil {
		t.Errorf("LRU order not kept: 2 cached %v, 3 cached %v", c.items["2"] != nil, c.items["3"] != nil)
	}
	if c.put(testObject("big", 20_000)) {
		t.Errorf("an object over an eighth of the budget was kept")
	}
	// Replacing a key does not count it twice.
	before := c.size
	c.put(testObject("10", 9_000))
	if c.size != before {
		t.Errorf("size after replace = %d, want %d", c.size, before)
	}
	if got := testutil.ToFloat64(m.cacheObjects); got != float64(len(c.items)) {
		t.Errorf("cache objects gauge = %v, want %d", got, len(c.items))
	}
}
