package app

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/config"
	"onair/internal/cpix"
	"onair/internal/keystore"
	"onair/internal/kms"
	"onair/internal/kms/pkcs11kms"
	"onair/internal/license"
	"onair/internal/live"
	"onair/internal/packager"
	"onair/internal/speke"
	"onair/internal/store"
)

// keyWait bounds how long a segment waits for its content key when the
// key was not fetched ahead (a session's first segment; a slow SPEKE
// provider).
const keyWait = 3 * time.Second

// drm holds serve's content keys (sealed by a KMS in JetStream KV), the
// viewer-token issuer and the license endpoint. Its methods are safe for
// concurrent use; Close waits for key fetches it started.
type drm struct {
	kms     kms.KMS
	closer  func() error // closes the KMS (pkcs11), nil otherwise
	keys    *keystore.Store
	source  keySource // where new keys come from
	issuer  *license.Issuer
	handler *license.Handler
	log     *slog.Logger

	mu      sync.Mutex
	cache   map[periodID]packager.Key
	pending map[periodID]bool // prefetches in flight
	wg      sync.WaitGroup
	ctx     context.Context // ends prefetches on Close
	cancel  context.CancelFunc
}

// periodID names one key period of a channel.
type periodID struct {
	channel string
	scheme  live.Scheme
	period  int64
}

// keySource makes the content key of a period: here (crypto/rand) or
// through a SPEKE provider.
type keySource interface {
	newKey(ctx context.Context, channel string, scheme live.Scheme, period int64) (keystore.Key, error)
}

// newDRM opens the KMS and the key store and builds the license endpoint.
// signKey/kid sign viewer tokens (serve's signing key).
func newDRM(ctx context.Context, cfg config.Config, st *store.Store, kid string, signKey ed25519.PrivateKey, check license.SessionCheck, log *slog.Logger, reg prometheus.Registerer) (*drm, error) {
	log = log.With("role", "drm")
	k, closer, err := openKMS(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	d := &drm{kms: k, closer: closer, log: log, cache: map[periodID]packager.Key{}, pending: map[periodID]bool{}}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	fail := func(err error) (*drm, error) {
		d.Close()
		return nil, err
	}
	if d.keys, err = keystore.New(st.JetStream(), k, keystore.Config{}, log); err != nil {
		return fail(fmt.Errorf("drm: key store: %w", err))
	}
	if err := d.keys.Open(ctx); err != nil {
		return fail(fmt.Errorf("drm: key store: %w", err))
	}
	d.source = localKeys{}
	if u := cfg.DRM.SPEKEURL; u != "" {
		c := &speke.Client{URL: u, Header: http.Header{}}
		if cfg.DRM.SPEKEToken != "" {
			c.Header.Set("Authorization", "Bearer "+cfg.DRM.SPEKEToken)
		}
		d.source = spekeKeys{c}
	}
	if d.issuer, err = license.NewIssuer(license.IssuerConfig{Kid: kid, Key: signKey}); err != nil {
		return fail(fmt.Errorf("drm: viewer tokens: %w", err))
	}
	ks, err := license.NewKeySet(map[string]ed25519.PublicKey{kid: d.issuer.PublicKey()})
	if err != nil {
		return fail(fmt.Errorf("drm: viewer tokens: %w", err))
	}
	v, err := license.NewVerifier(license.VerifierConfig{Keys: ks})
	if err != nil {
		return fail(fmt.Errorf("drm: viewer tokens: %w", err))
	}
	d.handler, err = license.NewHandler(license.HandlerConfig{AllowOrigins: cfg.DRM.LicenseOrigins, TrustedProxies: trustedProxies(cfg.Edge), SessionCheck: check},
		v, licenseKeys{d.keys}, log, reg)
	if err != nil {
		return fail(fmt.Errorf("drm: license endpoint: %w", err))
	}
	log.Info("content keys ready", "kms", k.Name(), "kek", k.Current())
	return d, nil
}

// openKMS opens the configured KMS: $ONAIR_KEK, the keyring file (made on
// first start), or a PKCS#11 token.
func openKMS(ctx context.Context, cfg config.Config, log *slog.Logger) (kms.KMS, func() error, error) {
	c := cfg.DRM
	if c.KMS == "pkcs11" {
		pin := os.Getenv("ONAIR_PKCS11_PIN")
		h, err := pkcs11kms.Open(ctx, pkcs11kms.Config{Module: c.PKCS11.Module, TokenLabel: c.PKCS11.TokenLabel,
			PIN: pin, PINFile: c.PKCS11.PINFile, KeyLabel: c.PKCS11.KeyLabel, CreateKey: true}, log)
		if err != nil {
			return nil, nil, fmt.Errorf("drm.pkcs11: %w", err)
		}
		return h, h.Close, nil
	}
	if env := os.Getenv("ONAIR_KEK"); env != "" {
		l, err := kms.LocalFromEnv(env)
		if err != nil {
			return nil, nil, fmt.Errorf("ONAIR_KEK: %w", err)
		}
		return l, nil, nil
	}
	path := c.KeyringFile
	if path == "" {
		path = filepath.Join(cfg.DataDir, "kms", "keyring")
		created, err := kms.EnsureKeyringFile(path, time.Now())
		if err != nil {
			return nil, nil, fmt.Errorf("drm: make the keyring: %w", err)
		}
		if created {
			log.Warn("made a new key-encryption keyring: back it up; content keys cannot be read without it", "file", path)
		}
	}
	l, err := kms.LoadLocalFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("drm.keyring_file: %w", err)
	}
	return l, nil, nil
}

// Close stops prefetches and closes the KMS.
func (d *drm) Close() {
	if d.cancel != nil {
		d.cancel()
	}
	d.wg.Wait()
	if d.closer != nil {
		if err := d.closer(); err != nil {
			d.log.Warn("close kms", "err", err)
		}
	}
}

// key returns the key of a period: from memory, the key store, or made
// (and stored) now. Pipelines A and B of a channel get the same key.
func (d *drm) key(ctx context.Context, p periodID) (packager.Key, error) {
	d.mu.Lock()
	if k, ok := d.cache[p]; ok {
		d.mu.Unlock()
		return k, nil
	}
	d.mu.Unlock()
	k, err := d.load(ctx, p)
	if err != nil {
		return packager.Key{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.cache[p]; ok {
		return old, nil
	}
	d.cache[p] = k
	return k, nil
}

// load finds or makes a period's key. Keys are made under a lock per
// server, so two pipelines never make two keys for one period.
func (d *drm) load(ctx context.Context, p periodID) (packager.Key, error) {
	ks, err := d.keys.List(ctx, p.channel)
	if err != nil {
		return packager.Key{}, fmt.Errorf("drm: keys of %s: %w", p.channel, err)
	}
	for _, k := range ks {
		if k.Scheme == string(p.scheme) && k.Period == p.period {
			return packagerKey(k), nil
		}
	}
	k, err := d.source.newKey(ctx, p.channel, p.scheme, p.period)
	if err != nil {
		return packager.Key{}, fmt.Errorf("drm: new key for %s period %d: %w", p.channel, p.period, err)
	}
	if err := d.keys.Put(ctx, k); err != nil {
		return packager.Key{}, fmt.Errorf("drm: store key for %s period %d: %w", p.channel, p.period, err)
	}
	d.log.Info("content key made", "channel", p.channel, "scheme", p.scheme, "period", p.period, "kid", k.KID.String())
	return packagerKey(k), nil
}

// prefetch loads a period's key in the background (once at a time).
func (d *drm) prefetch(p periodID) {
	d.mu.Lock()
	_, have := d.cache[p]
	if have || d.pending[p] || d.ctx.Err() != nil {
		d.mu.Unlock()
		return
	}
	d.pending[p] = true
	d.wg.Add(1)
	d.mu.Unlock()
	go func() {
		defer d.wg.Done()
		ctx, cancel := context.WithTimeout(d.ctx, 30*time.Second)
		defer cancel()
		if _, err := d.key(ctx, p); err != nil && d.ctx.Err() == nil {
			d.log.Warn("fetch the next content key", "channel", p.channel, "period", p.period, "err", err)
		}
		d.mu.Lock()
		delete(d.pending, p)
		d.mu.Unlock()
	}()
}

// protection is the packager's encryption of a channel's renditions, or
// nil for a clear channel. The first period's key is ready when it
// returns, so a channel that cannot get keys does not start.
func (d *drm) protection(ctx context.Context, rec store.Channel) (*packager.Protection, error) {
	s := live.Scheme(rec.DRM.Scheme)
	if s == live.SchemeClear {
		return nil, nil
	}
	if d == nil {
		return nil, errors.New("drm is not configured on this server")
	}
	ck := &channelKeys{d: d, channel: rec.Name, scheme: s, every: rec.DRM.RotateEvery}
	if _, err := d.key(ctx, periodID{rec.Name, s, 0}); err != nil {
		return nil, err
	}
	p := &packager.Protection{Scheme: s, Keys: ck}
	if s != live.SchemeAES128 {
		// Each init's Clear Key box names the key it is protected with.
		p.PSSHFor = func(kid live.KeyID) [][]byte { return [][]byte{cpix.ClearKeyPSSH(cpix.UUID(kid))} }
	}
	return p, nil
}

// forget drops a channel's cached keys (the channel was deleted).
func (d *drm) forget(ctx context.Context, channel string) error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	for p := range d.cache {
		if p.channel == channel {
			delete(d.cache, p)
		}
	}
	d.mu.Unlock()
	return d.keys.DeleteChannel(ctx, channel)
}

// viewerToken issues a license token for a viewer session of channel.
func (d *drm) viewerToken(tenant, channel, session string, ttl time.Duration) (string, time.Time, error) {
	return d.issuer.Issue(tenant, channel, session, min(ttl, license.DefaultMaxTTL))
}

// channelKeys is a channel's packager.KeySource: one key per period of
// every segments (0: one key), the next period's fetched ahead.
type channelKeys struct {
	d       *drm
	channel string
	scheme  live.Scheme
	every   int64
}

// KeyFor implements packager.KeySource.
func (c *channelKeys) KeyFor(n int64) (packager.Key, error) {
	period := int64(0)
	if c.every > 0 && n > 0 {
		period = n / c.every * c.every // a period is named by its first segment
	}
	if c.every > 0 {
		c.d.prefetch(periodID{c.channel, c.scheme, period + c.every})
	}
	ctx, cancel := context.WithTimeout(c.d.ctx, keyWait)
	defer cancel()
	return c.d.key(ctx, periodID{c.channel, c.scheme, period})
}

// localKeys makes content keys here, from crypto/rand.
type localKeys struct{}

func (localKeys) newKey(_ context.Context, channel string, scheme live.Scheme, period int64) (keystore.Key, error) {
	kid, err := keystore.NewKID()
	if err != nil {
		return keystore.Key{}, err
	}
	return randomKey(channel, kid, string(scheme), period)
}

// randomKey is a new content key and IV for kid, from crypto/rand.
func randomKey(channel string, kid keystore.KID, scheme string, period int64) (keystore.Key, error) {
	k := keystore.Key{Channel: channel, KID: kid, Value: make([]byte, keystore.KeySize), IV: make([]byte, keystore.IVSize),
		Scheme: scheme, Period: period}
	if _, err := rand.Read(k.Value); err != nil {
		return keystore.Key{}, err
	}
	if _, err := rand.Read(k.IV); err != nil {
		return keystore.Key{}, err
	}
	return k, nil
}

// packagerKey is a stored key as the packager takes it.
func packagerKey(k keystore.Key) packager.Key {
	return packager.Key{ID: live.KeyID(k.KID), Value: k.Value, IV: k.IV}
}

// licenseKeys is the license endpoint's view of the key store.
type licenseKeys struct{ ks *keystore.Store }

// Key implements license.Keys.
func (l licenseKeys) Key(ctx context.Context, channel string, kid [16]byte) ([]byte, error) {
	k, err := l.ks.Get(ctx, channel, keystore.KID(kid))
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, fmt.Errorf("%w: %v", license.ErrUnknownKey, err)
	}
	if err != nil {
		return nil, err
	}
	return k.Value, nil
}

// spekeKeys fetches new content keys from a SPEKE v2.0 key provider: the
// packager chooses the key ID, the provider the key.
type spekeKeys struct{ c *speke.Client }

func (s spekeKeys) newKey(ctx context.Context, channel string, scheme live.Scheme, period int64) (keystore.Key, error) {
	kid, err := keystore.NewKID()
	if err != nil {
		return keystore.Key{}, err
	}
	cs := string(scheme)
	if scheme == live.SchemeAES128 {
		cs = "cbcs" // CPIX has no whole-segment scheme; the key is the same 16 bytes
	}
	res, err := s.c.Fetch(ctx, speke.Request{ContentID: channel, KIDs: [][16]byte{kid}, Scheme: cs,
		DRMSystems: []string{cpix.ClearKeySystemID}})
	if err != nil {
		return keystore.Key{}, fmt.Errorf("speke: %w", err)
	}
	for _, k := range res.Keys {
		if k.KID == kid {
			out := keystore.Key{Channel: channel, KID: kid, Value: k.Value, IV: k.IV, Scheme: string(scheme), Period: period}
			if len(out.IV) != keystore.IVSize {
				out.IV = make([]byte, keystore.IVSize)
				if _, err := rand.Read(out.IV); err != nil {
					return keystore.Key{}, err
				}
			}
			return out, nil
		}
	}
	return keystore.Key{}, fmt.Errorf("speke: the provider returned no key for %s", kid)
}

// spekeSource is the built-in SPEKE provider's view of the key store: a
// known key ID gets its key; a new one of an existing channel gets a new
// key, stored.
type spekeSource struct {
	d  *drm
	st *store.Store
}

// ContentKey implements speke.KeySource.
func (s spekeSource) ContentKey(ctx context.Context, contentID string, kid [16]byte, scheme string) ([]byte, []byte, error) {
	if _, err := s.st.GetChannel(ctx, contentID); err != nil {
		return nil, nil, fmt.Errorf("%w: no channel %q", speke.ErrKeyRefused, contentID)
	}
	k, err := s.d.keys.Get(ctx, contentID, keystore.KID(kid))
	if errors.Is(err, keystore.ErrNotFound) {
		if k, err = randomKey(contentID, keystore.KID(kid), scheme, 0); err != nil {
			return nil, nil, err
		}
		if err := s.d.keys.Put(ctx, k); err != nil {
			return nil, nil, err
		}
		return k.Value, k.IV, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return k.Value, k.IV, nil
}

// spekeProvider is the built-in SPEKE v2.0 key provider (POST
// /api/v1/speke), for packagers elsewhere that should use this server's
// keys. It needs http.api_token: keys are never served unauthenticated.
func (d *drm) spekeProvider(cfg config.Config, st *store.Store, log *slog.Logger, reg prometheus.Registerer) (http.Handler, error) {
	if cfg.HTTP.APIToken == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "the SPEKE key provider needs http.api_token (it never serves keys unauthenticated)", http.StatusNotFound)
		}), nil
	}
	host := cfg.HTTP.PublicHost
	if host == "" {
		host = cfg.HTTP.Listen
		if strings.HasPrefix(host, ":") {
			host = "localhost" + host
		}
	}
	base := "http://" + host + license.DefaultPrefix + speke.PlaceholderContentID
	p, err := speke.NewProvider(speke.ProviderConfig{LicenseURL: base + "/clearkey", KeyURL: base + "/aes128/" + speke.PlaceholderKIDHex,
		Auth: speke.BearerAuth(cfg.HTTP.APIToken)}, speke.ProviderDeps{Keys: spekeSource{d, st}, Logger: log, Registerer: reg})
	if err != nil {
		return nil, fmt.Errorf("speke provider: %w", err)
	}
	return p, nil
}
