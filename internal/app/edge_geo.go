package app

import (
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"

	"onair/internal/config"
	"onair/internal/geo"
)

// edgeGeo is a standalone edge's country restriction: edge.geo_rules by
// path prefix, against edge.geo_database. Both are replaced on reload
// while requests read them.
type edgeGeo struct {
	db    geo.Holder
	rules atomic.Pointer[[]prefixRule] // longest prefix first
}

// prefixRule is one edge.geo_rules entry, normalized.
type prefixRule struct {
	prefix string
	rule   geo.Rule
}

// newEdgeGeo loads c's database and rules.
func newEdgeGeo(c config.Edge) (*edgeGeo, error) {
	g := &edgeGeo{}
	if err := g.apply(c); err != nil {
		return nil, err
	}
	return g, nil
}

// apply reads c's database again (a file replaced in place is picked up)
// and replaces the rules; on error nothing changes.
func (g *edgeGeo) apply(c config.Edge) error {
	rules := make([]prefixRule, 0, len(c.GeoRules))
	for i, r := range c.GeoRules {
		n, err := geo.Rule{Allow: r.Allow, Deny: r.Deny, Unknown: r.Unknown}.Normalize()
		if err != nil {
			return fmt.Errorf("edge.geo_rules[%d]: %w", i, err)
		}
		rules = append(rules, prefixRule{prefix: r.Prefix, rule: n})
	}
	// Longest prefix first, so the first match is the most specific.
	slices.SortStableFunc(rules, func(a, b prefixRule) int { return len(b.prefix) - len(a.prefix) })
	if c.GeoDatabase != "" {
		if _, err := g.db.Swap(c.GeoDatabase); err != nil {
			return fmt.Errorf("edge.geo_database: %w", err)
		}
	} else {
		g.db.Store(nil)
	}
	g.rules.Store(&rules)
	return nil
}

// rule returns the rule of the longest edge.geo_rules prefix of path.
func (g *edgeGeo) rule(path string) (geo.Rule, bool) {
	for _, r := range *g.rules.Load() {
		if strings.HasPrefix(path, r.prefix) {
			return r.rule, true
		}
	}
	return geo.Rule{}, false
}

// trustedProxies parses edge.trusted_proxies, which config.Validate has
// checked (an entry that does not parse is skipped).
func trustedProxies(c config.Edge) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range c.TrustedProxies {
		if pp, err := netip.ParsePrefix(p); err == nil {
			out = append(out, pp.Masked())
		}
	}
	return out
}

// clientAddr is the client address of r by c's trusted proxies, for the
// WAF's per-address limits.
func clientAddr(proxies []netip.Prefix) func(*http.Request) (netip.Addr, bool) {
	return func(r *http.Request) (netip.Addr, bool) {
		a := geo.ClientAddr(r, proxies)
		return a, a.IsValid()
	}
}
