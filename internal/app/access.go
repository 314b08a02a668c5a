package app

import (
	"context"
	"log/slog"

	"crypto/ed25519"
	"errors"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"io/fs"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"onair/internal/config"
	"onair/internal/control"
	"onair/internal/edge"
	"onair/internal/geo"
	"onair/internal/license"
	"onair/internal/live"
	"onair/internal/session"
	"onair/internal/signing"
	"onair/internal/store"
	"onair/internal/waf"
)

// Channel access modes (store.Channel.Access).
const (
	accessPublic = "public"
	accessSigned = "signed"
)

// access holds serve's token signer and the edge's verifier, and which
// channels need a token.
type access struct {
	signer   *signing.Signer
	priv     ed25519.PrivateKey // the signer's key, which also signs license tokens
	verifier *signing.Verifier
	prefixes []string // edge.signed_prefixes
	geo      geo.Holder
	proxies  []netip.Prefix
	session  func(*http.Request, *signing.Claims) bool // viewer-session check; nil: none

	mu     sync.RWMutex
	signed map[string]bool     // channel names
	rules  map[string]geo.Rule // channel names: restricted rules only
}

// newAccess loads (or on first start makes) the signing key and builds
// the verifier from it and edge.signing_keys.
func newAccess(cfg config.Config) (*access, error) {
	keyFile := cfg.Signing.KeyFile
	if keyFile == "" {
		dir := filepath.Join(cfg.DataDir, "signing")
		keyFile = filepath.Join(dir, "ed25519.pem")
		if _, err := os.Stat(keyFile); errors.Is(err, fs.ErrNotExist) {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("signing: %w", err)
			}
			if _, err := signing.GenerateKeyFiles(keyFile, filepath.Join(dir, "ed25519.pub.pem")); err != nil {
				return nil, fmt.Errorf("signing: make a key: %w", err)
			}
		}
	}
	priv, err := signing.LoadPrivateKey(keyFile)
	if err != nil {
		return nil, fmt.Errorf("signing.key_file: %w", err)
	}
	signer, err := signing.NewSigner(cfg.Signing.KeyID, priv)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	v, err := newVerifier(cfg.Edge, map[string]ed25519.PublicKey{signer.Kid(): signer.PublicKey()})
	if err != nil {
		return nil, err
	}
	a := &access{signer: signer, priv: priv, verifier: v, prefixes: cfg.Edge.SignedPrefixes, proxies: trustedProxies(cfg.Edge),
		signed: map[string]bool{}, rules: map[string]geo.Rule{}}
	if f := cfg.Edge.GeoDatabase; f != "" {
		if _, err := a.geo.Swap(f); err != nil {
			return nil, fmt.Errorf("edge.geo_database: %w", err)
		}
	}
	return a, nil
}

// reloadGeo reads the country database at path again (a file replaced
// by geoipupdate, say); on failure the running one stays.
func (a *access) reloadGeo(path string, log *slog.Logger) {
	if path == "" {
		log.Info("reload: no geo database configured")
		return
	}
	info, err := a.geo.Swap(path)
	if err != nil {
		log.Error("geo database not reloaded, the running one stays", "file", path, "err", err)
		return
	}
	log.Info("geo database reloaded", "file", path, "type", info.Type, "built", info.Built)
}

// newVerifier checks tokens with the keys of c.SigningKeys and extra.
func newVerifier(c config.Edge, extra map[string]ed25519.PublicKey) (*signing.Verifier, error) {
	keys := map[string]ed25519.PublicKey{}
	for kid, file := range c.SigningKeys {
		k, err := signing.LoadPublicKey(file)
		if err != nil {
			return nil, fmt.Errorf("edge.signing_keys[%s]: %w", kid, err)
		}
		keys[kid] = k
	}
	for kid, k := range extra {
		keys[kid] = k
	}
	ks, err := signing.NewKeySet(keys)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return signing.NewVerifier(signing.VerifierConfig{Keys: ks, TrustedProxies: trustedProxies(c)})
}

// edgeAccess is the edge's access configuration.
func (a *access) edgeAccess() *edge.AccessConfig {
	return &edge.AccessConfig{Verifier: a.verifier, Protected: a.protected,
		GeoRule: a.geoRule, Country: a.geo.Country, TrustedProxies: a.proxies, Session: a.session}
}

// geoRule returns the country rule of the channel a playback path names.
func (a *access) geoRule(path string) (geo.Rule, bool) {
	rest, ok := strings.CutPrefix(path, "/live/")
	if !ok {
		return geo.Rule{}, false
	}
	name, _, _ := strings.Cut(rest, "/")
	a.mu.RLock()
	defer a.mu.RUnlock()
	r, ok := a.rules[name]
	return r, ok
}

// setGeo records a channel's country rule (the zero rule removes it).
func (a *access) setGeo(name string, r store.GeoRule) {
	rule, err := geoRule(r)
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil || !rule.Restricted() {
		delete(a.rules, name)
		return
	}
	a.rules[name] = rule
}

// geoRule converts and normalizes a stored rule.
func geoRule(r store.GeoRule) (geo.Rule, error) {
	return geo.Rule{Allow: r.Allow, Deny: r.Deny, Unknown: r.Unknown}.Normalize()
}

// storeGeo validates an API rule for storage (nil: none).
func storeGeo(r *control.GeoRule) (store.GeoRule, error) {
	if r == nil {
		return store.GeoRule{}, nil
	}
	n, err := geo.Rule{Allow: r.Allow, Deny: r.Deny, Unknown: r.Unknown}.Normalize()
	if err != nil {
		return store.GeoRule{}, fmt.Errorf("%w: geo: %v", control.ErrInvalid, err)
	}
	return store.GeoRule{Allow: n.Allow, Deny: n.Deny, Unknown: r.Unknown}, nil
}

// apiGeo is a stored rule as the API shows it (nil: none).
func apiGeo(r store.GeoRule) *control.GeoRule {
	if len(r.Allow) == 0 && len(r.Deny) == 0 && r.Unknown == "" {
		return nil
	}
	return &control.GeoRule{Allow: r.Allow, Deny: r.Deny, Unknown: r.Unknown}
}

// protected reports whether a playback path needs a token: a signed
// channel's, or one under edge.signed_prefixes.
func (a *access) protected(path string) bool {
	for _, p := range a.prefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	rest, ok := strings.CutPrefix(path, "/live/")
	if !ok {
		return false
	}
	name, _, _ := strings.Cut(rest, "/")
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.signed[name]
}

// set records a channel's access mode ("" when it is deleted).
func (a *access) set(name, mode string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if mode == accessSigned {
		a.signed[name] = true
	} else {
		delete(a.signed, name)
	}
}

// IssueToken implements control.Manager.
func (m *channels) IssueToken(ctx context.Context, name string, req control.TokenRequest, baseURL string) (control.Token, error) {
	rec, err := m.st.GetChannel(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return control.Token{}, fmt.Errorf("%w: channel %s", control.ErrNotFound, name)
	}
	if err != nil {
		return control.Token{}, err
	}
	if m.access == nil {
		return control.Token{}, fmt.Errorf("%w: token signing is not configured", control.ErrConflict)
	}
	ttl := m.cfg.Signing.TokenTTL
	if req.TTL != "" {
		if ttl, err = time.ParseDuration(req.TTL); err != nil || ttl <= 0 {
			return control.Token{}, fmt.Errorf("%w: ttl %q", control.ErrInvalid, req.TTL)
		}
	}
	if m.sessions != nil && ttl > m.cfg.Sessions.TTL {
		return control.Token{}, fmt.Errorf("%w: ttl %s is longer than sessions.ttl %s", control.ErrInvalid, ttl, m.cfg.Sessions.TTL)
	}
	sid := req.Session
	if sid == "" {
		sid = session.NewID()
	}
	if !session.ValidID(sid) {
		return control.Token{}, fmt.Errorf("%w: session %q: use 1-64 of A-Z a-z 0-9 _ -", control.ErrInvalid, sid)
	}
	p := signing.Policy{Resource: "/live/" + rec.Name + "/*", Expires: time.Now().Add(ttl), Session: sid, Tenant: rec.Tenant, Channel: rec.Name}
	if req.IP != "" {
		if p.IP, err = parsePrefix(req.IP); err != nil {
			return control.Token{}, fmt.Errorf("%w: ip %q: want an address or CIDR prefix", control.ErrInvalid, req.IP)
		}
	}
	tok, err := m.access.signer.Sign(p)
	if err != nil {
		return control.Token{}, fmt.Errorf("%w: %v", control.ErrInvalid, err)
	}
	if err := m.recordSession(ctx, rec, sid, req, p.Expires); err != nil {
		return control.Token{}, err
	}
	base := strings.TrimSuffix(baseURL, "/")
	q := "?" + signing.ParamName + "=" + url.QueryEscape(tok)
	out := control.Token{Token: tok, Expires: p.Expires.UTC().Truncate(time.Second), Session: sid, Resource: p.Resource, Playback: control.Playback{
		HLS:  base + "/live/" + rec.Name + "/master.m3u8" + q,
		DASH: base + "/live/" + rec.Name + "/manifest.mpd" + q,
		Page: base + "/channels/" + rec.Name,
	}}
	if rec.DRM.Scheme != "" && m.drm != nil {
		lt, exp, err := m.drm.viewerToken(tokenTenant(rec.Tenant), rec.Name, sid, ttl)
		if err != nil {
			return control.Token{}, fmt.Errorf("%w: license token: %v", control.ErrInvalid, err)
		}
		out.License = &control.LicenseToken{Token: lt, Expires: exp.UTC().Truncate(time.Second), Scheme: rec.DRM.Scheme, Session: sid}
		if rec.DRM.Scheme != string(live.SchemeAES128) {
			out.License.ClearKey = base + license.DefaultPrefix + rec.Name + "/clearkey"
		}
	}
	return out, nil
}

// parsePrefix reads an address (a /32 or /128 prefix) or a CIDR prefix.
func parsePrefix(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	return p.Masked(), err
}

// newWAF builds the public port's WAF: the core rule set for the API,
// token, license and manifest requests, URL shape and rate limits for
// segments; client addresses by edge.trusted_proxies.
func newWAF(cw config.WAF, clientIP func(*http.Request) (netip.Addr, bool), log *slog.Logger, reg prometheus.Registerer) (*waf.WAF, error) {
	c := waf.Config{Enabled: true, Paranoia: cw.Paranoia, ClientIP: clientIP}
	if cw.IPRate != 0 {
		c.IPRate = waf.Limit{Rate: cw.IPRate, Burst: max(1, int(2*cw.IPRate))}
	}
	if cw.TokenRate != 0 {
		c.TokenRate = waf.Limit{Rate: cw.TokenRate, Burst: max(1, int(3*cw.TokenRate))}
	}
	w, err := waf.New(c, log.With("role", "waf"), reg)
	if err != nil {
		return nil, fmt.Errorf("waf: %w", err)
	}
	return w, nil
}
