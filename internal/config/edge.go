package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Edge configures the viewer-facing HTTP tier: the caching edge that
// `onair serve` puts in front of its origin on the public HTTP port, and
// the standalone `onair edge`. The listener settings (TLS, connection and
// header limits, HTTP/2) apply to serve's public port whether or not the
// edge is enabled.
type Edge struct {
	// Enabled puts the edge in front of the origin in `onair serve`:
	// playback paths (/live/) on the public port are answered from its
	// cache, and the origin sees one request per object. false serves the
	// origin directly. Default true. `onair edge` ignores it.
	Enabled bool `yaml:"enabled"`
	// Listen is the cleartext address of `onair edge` (HTTP/1.1 and h2c).
	// Default ":8081"; "" disables it (TLS only). `onair serve` listens on
	// http.listen instead.
	Listen string `yaml:"listen"`
	// Upstreams are base URLs, http(s)://host[:port][/prefix]. For
	// `onair serve`, secondary origins tried after the in-process one (a
	// backup pipeline's server, for instance); default none. For
	// `onair edge`, the whole origin group, primary first; at least one.
	Upstreams []string `yaml:"upstreams"`
	// CacheMiB is the memory cache budget in MiB. Default 256.
	CacheMiB int `yaml:"cache_mib"`
	// UpstreamTimeout bounds the wait for an upstream's response head and
	// any stall of its body. Default 10s. `onair serve` raises it (and
	// BlockTimeout) to at least its origin's hold, 3 x segments.duration,
	// plus 2s.
	UpstreamTimeout time.Duration `yaml:"upstream_timeout"`
	// BlockTimeout bounds the wait for the response head of an LL-HLS
	// blocking playlist reload. Default 10s.
	BlockTimeout time.Duration `yaml:"block_timeout"`
	// TLSListen is the HTTPS address (HTTP/2 and HTTP/1.1), used only when
	// CertFile and KeyFile are set. Default ":8443".
	TLSListen string `yaml:"tls_listen"`
	// CertFile and KeyFile are the PEM certificate (chain) and key.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// MaxConns is how many client connections may be open at once (all
	// listeners together); beyond it a new connection is closed at once
	// and counted in onair_http_connections_refused_total. Default 10000.
	MaxConns int `yaml:"max_conns"`
	// MaxHeaderBytes is the request header limit (431 beyond it). Default
	// 16384.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// MaxURLBytes is the longest playback request target the edge serves
	// (414 beyond it). Default 4096.
	MaxURLBytes int `yaml:"max_url_bytes"`
	// SpillDir is a directory the edge spills evicted segments to (a
	// second, disk cache tier); "" (default) keeps the cache in memory.
	SpillDir string `yaml:"spill_dir"`
	// SpillMiB bounds the spill directory. Default 1024.
	SpillMiB int `yaml:"spill_mib"`
	// SlateImage is a picture the edge shows while its circuit breaker is
	// open (upstreams keep failing); "" shows a text card.
	SlateImage string `yaml:"slate_image"`
	// SlateText is the card's text. Default "Please stand by".
	SlateText string `yaml:"slate_text"`
	// EventsURL is a NATS server `onair edge` publishes its manifest-age
	// alarms to (subjects onair.events.edge.manifest_age.*); "" publishes
	// none. `onair serve` publishes to its own state store.
	EventsURL string `yaml:"events_url"`
	// SigningKeys are the public keys (key ID: Ed25519 PEM file) signed
	// playback tokens are checked with. `onair serve` adds the key of its
	// own signing section.
	SigningKeys map[string]string `yaml:"signing_keys"`
	// SignedPrefixes are path prefixes (e.g. "/live/premium/") that need a
	// signed token at `onair edge`. `onair serve` protects the channels
	// created with "access": "signed" as well.
	SignedPrefixes []string `yaml:"signed_prefixes"`
	// TrustedProxies are CIDR prefixes of proxies whose X-Forwarded-For
	// names the viewer for the tokens' ip condition.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// GeoDatabase is a MaxMind-format country database (.mmdb: GeoLite2-
	// or GeoIP2-Country, DB-IP country lite) for channels' geo rules;
	// "" places nobody (only a rule's unknown setting applies).
	GeoDatabase string `yaml:"geo_database"`
	// OriginSecret is sent to the upstreams as X-Onair-Origin-Secret, for
	// an origin whose http.origin_secret is set. Default none.
	OriginSecret string `yaml:"origin_secret"`
	// GeoRules restrict playback at `onair edge` by the viewer's country
	// (from GeoDatabase), by path prefix; the longest matching prefix
	// applies. `onair serve` takes channels' own rules instead. Reloaded
	// on SIGHUP with the database.
	GeoRules []EdgeGeoRule `yaml:"geo_rules"`
}

// EdgeGeoRule is a country rule for the paths under Prefix.
type EdgeGeoRule struct {
	// Prefix is a path prefix such as "/live/premium/".
	Prefix string `yaml:"prefix"`
	// Allow, when set, is the only countries (ISO 3166-1 alpha-2) that
	// may play; Deny is countries that may not.
	Allow []string `yaml:"allow"`
	Deny  []string `yaml:"deny"`
	// Unknown is "allow" or "deny" for viewers the database does not
	// place; default deny with an allow list, else allow.
	Unknown string `yaml:"unknown"`
}

// DefaultEdge returns the Edge section's defaults.
func DefaultEdge() Edge {
	return Edge{
		Enabled:         true,
		Listen:          ":8081",
		Upstreams:       []string{},
		CacheMiB:        256,
		UpstreamTimeout: 10 * time.Second,
		BlockTimeout:    10 * time.Second,
		TLSListen:       ":8443",
		MaxConns:        10000,
		MaxHeaderBytes:  16 << 10,
		MaxURLBytes:     4 << 10,
		SpillMiB:        1024,
		SlateText:       "Please stand by",
		SigningKeys:     map[string]string{},
		SignedPrefixes:  []string{},
		TrustedProxies:  []string{},
		GeoRules:        []EdgeGeoRule{},
	}
}

// TLS reports whether a certificate and key are configured.
func (e *Edge) TLS() bool { return e.CertFile != "" && e.KeyFile != "" }

// validate reports the Edge section's problems through bad.
func (e *Edge) validate(bad func(format string, a ...any)) {
	for _, f := range [...]struct{ name, addr string }{{"edge.listen", e.Listen}, {"edge.tls_listen", e.TLSListen}} {
		if f.addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(f.addr); err != nil {
			bad("%s: %q is not host:port: %v", f.name, f.addr, err)
		}
	}
	if (e.CertFile == "") != (e.KeyFile == "") {
		bad("edge: cert_file and key_file must be set together")
	}
	if e.TLS() && e.TLSListen == "" {
		bad("edge.tls_listen: must not be empty when cert_file and key_file are set")
	}
	seen := map[string]bool{}
	for i, raw := range e.Upstreams {
		if err := checkUpstream(raw); err != nil {
			bad("edge.upstreams[%d]: %v", i, err)
		}
		if seen[raw] {
			bad("edge.upstreams[%d]: %q is listed twice", i, raw)
		}
		seen[raw] = true
	}
	if e.SpillMiB < 1 || e.SpillMiB > 1<<24 {
		bad("edge.spill_mib: %d out of range [1, 16777216]", e.SpillMiB)
	}
	prefixes := map[string]bool{}
	for i, r := range e.GeoRules {
		if !strings.HasPrefix(r.Prefix, "/") {
			bad("edge.geo_rules[%d].prefix: %q: want a path starting with /", i, r.Prefix)
		}
		if prefixes[r.Prefix] {
			bad("edge.geo_rules[%d].prefix: %q is listed twice", i, r.Prefix)
		}
		prefixes[r.Prefix] = true // country codes: checked by `onair edge` (internal/geo)
	}
	if e.EventsURL != "" {
		if u, err := url.Parse(e.EventsURL); err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
			bad("edge.events_url: %q: want nats://host:port", e.EventsURL)
		}
	}
	for kid, f := range e.SigningKeys {
		if kid == "" || f == "" {
			bad("edge.signing_keys: key ID %q and file %q must not be empty", kid, f)
		}
	}
	for i, p := range e.SignedPrefixes {
		if !strings.HasPrefix(p, "/") {
			bad("edge.signed_prefixes[%d]: %q must start with /", i, p)
		}
	}
	for i, c := range e.TrustedProxies {
		if _, err := netip.ParsePrefix(c); err != nil {
			bad("edge.trusted_proxies[%d]: %q is not a CIDR prefix", i, c)
		}
	}
	if e.CacheMiB < 1 || e.CacheMiB > 1<<20 {
		bad("edge.cache_mib: %d out of range [1, 1048576]", e.CacheMiB)
	}
	if e.UpstreamTimeout < 100*time.Millisecond || e.BlockTimeout < 100*time.Millisecond {
		bad("edge.upstream_timeout and edge.block_timeout must be at least 100ms")
	}
	if e.MaxConns < 1 {
		bad("edge.max_conns: must be at least 1")
	}
	if e.MaxHeaderBytes < 1<<10 || e.MaxHeaderBytes > 1<<20 {
		bad("edge.max_header_bytes: %d out of range [1024, 1048576]", e.MaxHeaderBytes)
	}
	if e.MaxURLBytes < 256 || e.MaxURLBytes > 1<<20 {
		bad("edge.max_url_bytes: %d out of range [256, 1048576]", e.MaxURLBytes)
	}
}

// checkUpstream checks the shape the edge accepts for an upstream.
func checkUpstream(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q: want http(s)://host[:port][/prefix]", raw)
	}
	return nil
}
