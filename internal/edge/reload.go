package edge

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Reconfigure applies cfg to a running edge without dropping a connection,
// a fill or the cache:
//
//   - Upstreams replaces the origin group. An upstream that stays (same
//     base URL) keeps its up/down state and probe target, whatever its new
//     position; a new one starts up; a removed one is no longer tried, and
//     fetches already running from it finish.
//   - CacheBytes changes the memory budget; a smaller one evicts the
//     least recently used objects at once (to the disk spill, if any).
//
// The other fields are fixed for the Edge's lifetime: when they differ
// from the running ones, the running values are kept and a warning names
// them (they take effect in a new Edge, that is on restart). An invalid
// cfg (no upstreams, a malformed upstream, a negative size) is refused
// with an error and nothing changes. Reconfigure is safe to call while
// the edge serves.
func (e *Edge) Reconfigure(cfg Config) error {
	if err := cfg.setDefaults(); err != nil {
		return fmt.Errorf("edge: reconfigure: %w", err)
	}
	// newGroup validates the upstreams exactly as New does; its metrics
	// are a scratch set, so nothing is reported for the parsed list.
	scratch, err := newMetrics(nil, e)
	if err != nil {
		return fmt.Errorf("edge: reconfigure: %w", err)
	}
	parsed, err := newGroup(cfg, e.log, e.now, scratch)
	if err != nil {
		return fmt.Errorf("edge: reconfigure: %w", err)
	}
	parsed.client.CloseIdleConnections()

	// e.mu serializes reconfigurations and guards the cache; the group's
	// own lock guards its list. Nothing takes e.mu while holding g.mu.
	e.mu.Lock()
	defer e.mu.Unlock()
	added, removed := e.group.replace(parsed.ups)
	budget := e.cfg.CacheBytes
	e.cache.setBudget(cfg.CacheBytes)
	e.cfg.Upstreams = slices.Clone(cfg.Upstreams)
	e.cfg.CacheBytes = cfg.CacheBytes
	e.log.Info("edge reconfigured", "upstreams", cfg.Upstreams, "added", added, "removed", removed,
		"cache_bytes", cfg.CacheBytes, "previous_cache_bytes", budget)
	if fixed := e.cfg.fixedChanges(cfg); len(fixed) > 0 {
		e.log.Warn("edge settings that only change on restart were left as they are", "fields", strings.Join(fixed, ", "))
	}
	return nil
}

// fixedChanges names the fields of next that differ from c and that a
// running edge can not change: every field but Upstreams and CacheBytes,
// nested ones by their path (Breaker.Threshold). Funcs (the clock, the
// alarm callback) and Access (its rules change through its own funcs)
// are the caller's wiring, not configuration, and are
// not compared. Reflection keeps the list whole as Config grows.
func (c *Config) fixedChanges(next Config) []string {
	var out []string
	diffFields(reflect.ValueOf(*c), reflect.ValueOf(next), "", &out)
	return out
}

func diffFields(a, b reflect.Value, prefix string, out *[]string) {
	t := a.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name := prefix + f.Name
		switch {
		case !f.IsExported(), name == "Upstreams", name == "CacheBytes", name == "Access", f.Type.Kind() == reflect.Func:
		case f.Type.Kind() == reflect.Struct:
			diffFields(a.Field(i), b.Field(i), name+".", out)
		case !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()):
			*out = append(*out, name)
		}
	}
}

// replace swaps the group's upstreams for next (freshly parsed, all up),
// keeping the state of those whose base URL was already there, and
// updates onair_edge_upstream_up. It returns the base URLs added and
// removed.
func (g *group) replace(next []*upstream) (added, removed []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	old := make(map[string]*upstream, len(g.ups))
	for _, u := range g.ups {
		old[u.base] = u
	}
	ups := make([]*upstream, 0, len(next))
	for _, n := range next {
		if u, ok := old[n.base]; ok {
			ups = append(ups, u)
			delete(old, n.base)
			continue
		}
		ups = append(ups, n)
		added = append(added, n.base)
		g.metrics.upstreamUp.WithLabelValues(n.base).Set(1)
	}
	for _, u := range g.ups {
		if _, gone := old[u.base]; gone {
			removed = append(removed, u.base)
			g.metrics.upstreamUp.DeleteLabelValues(u.base)
		}
	}
	g.ups = ups
	return added, removed
}

// setBudget changes the byte budget, evicting the least recently used
// objects until the cache fits; as in put, evicted immutable objects go to
// the spill (when there is one). The caller holds the Edge's mutex.
func (c *cache) setBudget(budget int64) {
	c.budget = budget
	for c.size > c.budget && c.lru.Len() > 0 {
		victim := c.lru.Back().Value.(*object)
		c.remove(victim)
		c.spill.add(victim)
	}
	c.report()
}
