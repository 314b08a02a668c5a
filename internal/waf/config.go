package waf

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"onair/internal/clientip"
)

// Defaults for Config's zero fields.
const (
	DefaultParanoia         = 1       // CRS blocking paranoia level
	DefaultAnomalyThreshold = 5       // CRS inbound anomaly score threshold
	DefaultRequestBodyLimit = 1 << 20 // bytes
	DefaultIPRate           = 100     // requests per second per client address
	DefaultIPBurst          = 200
	DefaultTokenRate        = 20 // requests per second per token
	DefaultTokenBurst       = 60
	DefaultMaxClients       = 100_000 // per table (addresses, tokens)

	maxBodyLimit = 1 << 30 // bodies are held in memory
)

// Mode is how much checking a request gets.
type Mode int

const (
	// ModeFull runs the OWASP core rule set on the request (headers and
	// body) after the rate limits: API, token, key and license endpoints,
	// manifests.
	ModeFull Mode = iota
	// ModeCheap checks the method, the URL's shape (CheckURL) and the
	// rate limits only: media segments, parts and init segments, asked
	// for several times a second by every viewer.
	ModeCheap
)

// String returns the mode's metric label: "full" or "cheap".
func (m Mode) String() string {
	if m == ModeCheap {
		return "cheap"
	}
	return "full"
}

// Limit is a token-bucket rate limit: Rate requests per second on
// average, Burst at once. A zero Rate takes the default; a negative Rate
// turns the limit off.
type Limit struct {
	Rate  float64
	Burst int
}

// off reports whether the limit is turned off.
func (l Limit) off() bool { return l.Rate < 0 }

// Config configures a WAF. The zero value of every field but Enabled
// takes its default.
type Config struct {
	// Enabled turns the WAF on; when false Middleware returns its handler
	// unchanged. Default false.
	Enabled bool
	// Paranoia is the CRS blocking paranoia level, 1 (fewest false
	// positives) to 4. Default 1.
	Paranoia int
	// AnomalyThreshold is the CRS inbound anomaly score at which a
	// request is blocked (a critical match scores 5, an error 4, a
	// warning 3, a notice 2). Default 5.
	AnomalyThreshold int
	// Directives are extra SecLang directives appended after the core
	// rule set and onair's exclusions (rule exclusions, ctl actions,
	// extra rules). Default none.
	Directives string
	// RequestBodyLimit is the largest request body, in bytes, a full-mode
	// request may carry (413 beyond it); the WAF holds the body in memory
	// to inspect it. Default 1 MiB, at most 1 GiB.
	RequestBodyLimit int
	// IPRate limits the requests of one client address (an IPv6 client's
	// /64) in either mode. Default 100/s, burst 200.
	IPRate Limit
	// TokenRate limits the requests carrying one token (Token) in either
	// mode. Default 20/s, burst 60.
	TokenRate Limit
	// MaxClients bounds each rate-limit table (addresses, tokens): beyond
	// it the least recently seen entry is dropped, so that client starts
	// again with a full burst. Default 100000.
	MaxClients int
	// Classify picks a request's mode; nil uses DefaultClassify.
	Classify func(*http.Request) Mode
	// ClientIP returns the client address of a request, false when it
	// cannot be known (such requests are not limited per address); the
	// shape of signing.Verifier.ClientIP, which applies internal/clientip's
	// trusted-proxy X-Forwarded-For rule. nil uses the peer address
	// (r.RemoteAddr).
	ClientIP func(*http.Request) (netip.Addr, bool)
	// Token returns a request's credential for the per-token limit, ""
	// for none; nil uses DefaultToken.
	Token func(*http.Request) string
	// CheapParams are query parameters a cheap-mode URL may carry besides
	// the LL-HLS directives and onair_token (e.g. a player's cache
	// buster "_"); their values must be 0-256 characters of
	// [A-Za-z0-9._~-]. Default none.
	CheapParams []string
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
}

// setDefaults fills zero fields and reports every invalid one.
func (c *Config) setDefaults() error {
	var errs []error
	if c.Paranoia == 0 {
		c.Paranoia = DefaultParanoia
	}
	if c.Paranoia < 1 || c.Paranoia > 4 {
		errs = append(errs, fmt.Errorf("paranoia %d: want 1 to 4", c.Paranoia))
	}
	if c.AnomalyThreshold == 0 {
		c.AnomalyThreshold = DefaultAnomalyThreshold
	}
	if c.AnomalyThreshold < 0 {
		errs = append(errs, fmt.Errorf("anomaly threshold %d: want a positive score", c.AnomalyThreshold))
	}
	if c.RequestBodyLimit == 0 {
		c.RequestBodyLimit = DefaultRequestBodyLimit
	}
	if c.RequestBodyLimit < 0 || c.RequestBodyLimit > maxBodyLimit {
		errs = append(errs, fmt.Errorf("request body limit %d: want 1 to %d bytes", c.RequestBodyLimit, maxBodyLimit))
	}
	for _, l := range []struct {
		name  string
		limit *Limit
		def   Limit
	}{
		{"ip rate", &c.IPRate, Limit{DefaultIPRate, DefaultIPBurst}},
		{"token rate", &c.TokenRate, Limit{DefaultTokenRate, DefaultTokenBurst}},
	} {
		switch {
		case l.limit.off():
		case l.limit.Rate == 0:
			*l.limit = l.def
		case l.limit.Burst < 1:
			errs = append(errs, fmt.Errorf("%s: burst %d: want at least 1", l.name, l.limit.Burst))
		}
	}
	if c.MaxClients == 0 {
		c.MaxClients = DefaultMaxClients
	}
	if c.MaxClients < 0 {
		errs = append(errs, fmt.Errorf("max clients %d: want a positive count", c.MaxClients))
	}
	for _, p := range c.CheapParams {
		if p == "" || strings.ContainsFunc(p, func(r rune) bool { return r > 0x7f || !valueChar(byte(r)) }) {
			errs = append(errs, fmt.Errorf("cheap param %q: want a name of [A-Za-z0-9._~-]", p))
		}
	}
	if c.Classify == nil {
		c.Classify = DefaultClassify
	}
	if c.ClientIP == nil {
		c.ClientIP = peerAddr
	}
	if c.Token == nil {
		c.Token = DefaultToken
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return errors.Join(errs...)
}

// peerAddr is the default ClientIP: the connection's peer.
func peerAddr(r *http.Request) (netip.Addr, bool) {
	return clientip.Parse(r.RemoteAddr)
}

// DefaultClassify sends playback media objects (paths under /live/ ending
// in .m4s or .mp4: segments, parts, init segments) to ModeCheap and every
// other request (API, tokens, keys, licenses, manifests) to ModeFull.
// A request it calls cheap still has to pass CheckURL, so a path that
// merely ends like a segment gains nothing.
func DefaultClassify(r *http.Request) Mode {
	p := r.URL.Path
	if strings.HasPrefix(p, "/live/") && (strings.HasSuffix(p, ".m4s") || strings.HasSuffix(p, ".mp4")) {
		return ModeCheap
	}
	return ModeFull
}
