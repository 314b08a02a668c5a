package tenant_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"onair/internal/tenant"
)

func TestCreateKeyValidation(t *testing.T) {
	s, _, _ := newStore(t)
	mustTenant(t, s, "acme")
	cases := []struct {
		name   string
		tenant string
		role   tenant.Role
		desc   string
		want   error
	}{
		{"admin", "acme", tenant.RoleAdmin, "ci pipeline", nil},
		{"viewer-issuer", "acme", tenant.RoleViewerIssuer, "", nil},
		{"read-only", "acme", tenant.RoleReadOnly, "grafana", nil},
		{"operator", "", tenant.RoleOperator, "break glass", nil},
		{"operator with a tenant", "acme", tenant.RoleOperator, "", tenant.ErrInvalid},
		{"tenant role without tenant", "", tenant.RoleAdmin, "", tenant.ErrInvalid},
		{"unknown role", "acme", "owner", "", tenant.ErrInvalid},
		{"empty role", "acme", "", "", tenant.ErrInvalid},
		{"missing tenant", "nope", tenant.RoleAdmin, "", tenant.ErrNotFound},
		{"bad tenant id", "No Pe", tenant.RoleAdmin, "", tenant.ErrNotFound},
		{"long description", "acme", tenant.RoleAdmin, strings.Repeat("d", 201), tenant.ErrInvalid},
		{"control characters", "acme", tenant.RoleAdmin, "a\x1b[31mred", tenant.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, plain, err := s.CreateKey(ctx(t), c.tenant, c.role, c.desc)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("CreateKey: %v, want %v", err, c.want)
			}
			if err != nil {
				if plain != "" || k.ID != "" {
					t.Errorf("failed CreateKey returned a key: %+v %q", k, plain)
				}
				return
			}
			if k.Tenant != c.tenant || k.Role != c.role || k.Description != c.desc || !k.Active() {
				t.Errorf("record %+v", k)
			}
			if !strings.HasPrefix(plain, "onair_"+k.ID+"_") || len(plain) != 66 {
				t.Errorf("plaintext %q does not look like onair_%s_<secret>", plain, k.ID)
			}
			if id, err := tenant.KeyID(plain); err != nil || id != k.ID {
				t.Errorf("KeyID = %q, %v", id, err)
			}
		})
	}
}

// TestRawKVHoldsNoSecret reads every entry of the bucket and looks for the
// secret in every encoding a careless implementation might store.
func TestRawKVHoldsNoSecret(t *testing.T) {
	s, js, _ := newStore(t)
	c := ctx(t)
	mustTenant(t, s, "acme")
	var plains []string
	for _, role := range []tenant.Role{tenant.RoleAdmin, tenant.RoleReadOnly} {
		_, p := mustKey(t, s, "acme", role)
		plains = append(plains, p)
	}
	_, p, err := s.CreateKey(c, "", tenant.RoleOperator, "op")
	if err != nil {
		t.Fatal(err)
	}
	plains = append(plains, p)
	for _, p := range plains { // use them, so LastUsed writes happen too
		if _, err := s.Authenticate(c, p); err != nil {
			t.Fatal(err)
		}
	}

	kv, err := js.KeyValue(c, tenant.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	names, err := kv.Keys(c)
	if err != nil {
		t.Fatal(err)
	}
	var raw [][]byte
	for _, n := range names {
		e, err := kv.Get(c, n)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, e.Value())
	}
	if len(raw) != 4 { // one tenant, three keys
		t.Fatalf("%d entries in the bucket, want 4", len(raw))
	}
	for _, p := range plains {
		secretText := p[len("onair_")+17:]
		secret, err := base64.RawURLEncoding.DecodeString(secretText)
		if err != nil {
			t.Fatal(err)
		}
		needles := [][]byte{
			[]byte(p), []byte(secretText), secret,
			[]byte(hex.EncodeToString(secret)),
			[]byte(base64.StdEncoding.EncodeToString(secret)),
			[]byte(base64.RawStdEncoding.EncodeToString(secret)),
			[]byte(base64.URLEncoding.EncodeToString(secret)),
		}
		for _, v := range raw {
			for _, n := range needles {
				if bytes.Contains(v, n) {
					t.Errorf("a KV record contains the secret (%q): %s", n, v)
				}
			}
		}
	}
}

func TestAuthenticate(t *testing.T) {
	s, js, _ := newStore(t)
	c := ctx(t)
	mustTenant(t, s, "acme")
	mustTenant(t, s, "gone")
	admin, adminKey := mustKey(t, s, "acme", tenant.RoleAdmin)
	revoked, revokedKey := mustKey(t, s, "acme", tenant.RoleReadOnly)
	if err := s.RevokeKey(c, revoked.ID); err != nil {
		t.Fatal(err)
	}
	_, orphanKey := mustKey(t, s, "gone", tenant.RoleAdmin)
	// Simulate the DeleteTenant race: the tenant vanishes under a live key.
	kv, err := js.KeyValue(c, tenant.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Purge(c, "tenant.gone"); err != nil {
		t.Fatal(err)
	}

	flip := func(k string) string { // same id, other secret
		b := []byte(k)
		if b[30] == 'A' {
			b[30] = 'B'
		} else {
			b[30] = 'A'
		}
		return string(b)
	}
	cases := []struct {
		name      string
		presented string
		want      error
		wantID    string
	}{
		{"valid", adminKey, nil, admin.ID},
		{"valid again (cached)", adminKey, nil, admin.ID},
		{"wrong secret", flip(adminKey), tenant.ErrUnknownKey, ""},
		{"unknown id", "onair_0000000000000000_" + adminKey[23:], tenant.ErrUnknownKey, ""},
		{"revoked", revokedKey, tenant.ErrRevoked, ""},
		{"revoked, wrong secret", flip(revokedKey), tenant.ErrUnknownKey, ""},
		{"tenant deleted", orphanKey, tenant.ErrRevoked, ""},
		{"empty", "", tenant.ErrMalformed, ""},
		{"bearer prefix left on", "Bearer " + adminKey, tenant.ErrMalformed, ""},
		{"truncated", adminKey[:len(adminKey)-1], tenant.ErrMalformed, ""},
		{"trailing newline", adminKey[:len(adminKey)-1] + "\n", tenant.ErrMalformed, ""},
		{"upper-case id", "onair_" + strings.ToUpper(adminKey[6:22]) + adminKey[22:], tenant.ErrMalformed, ""},
		{"other prefix", "onaiR" + adminKey[5:], tenant.ErrMalformed, ""},
		{"padding", adminKey[:len(adminKey)-1] + "=", tenant.ErrMalformed, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := s.Authenticate(ctx(t), c.presented)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("Authenticate: %v, want %v", err, c.want)
			}
			if k.ID != c.wantID {
				t.Errorf("key id %q, want %q", k.ID, c.wantID)
			}
			if err != nil && len(c.presented) > 23 && strings.Contains(err.Error(), c.presented[23:]) {
				t.Errorf("error %q quotes the secret", err)
			}
		})
	}
	if k, err := s.Authenticate(c, adminKey); err != nil || k.Tenant != "acme" || k.Role != tenant.RoleAdmin {
		t.Errorf("Authenticate = %+v, %v", k, err)
	}
}

// TestRevocationBound: a revocation through the same Store applies at once;
// one made on another node (another Store on the same bucket) applies once
// the verified-key cache entry expires, CacheTTL at most.
func TestRevocationBound(t *testing.T) {
	js := newJetStream(t)
	clk := newClock()
	const ttl = 5 * time.Second
	nodeA := tenant.New(js, tenant.Config{Now: clk.Now, CacheTTL: ttl}, nil)
	nodeB := tenant.New(js, tenant.Config{Now: clk.Now, CacheTTL: ttl}, nil)
	c := ctx(t)
	mustTenant(t, nodeA, "acme")
	k1, plain1 := mustKey(t, nodeA, "acme", tenant.RoleAdmin)
	k2, plain2 := mustKey(t, nodeA, "acme", tenant.RoleAdmin)
	for _, p := range []string{plain1, plain2} {
		if _, err := nodeA.Authenticate(c, p); err != nil {
			t.Fatal(err)
		}
	}

	if err := nodeA.RevokeKey(c, k1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := nodeA.Authenticate(c, plain1); !errors.Is(err, tenant.ErrRevoked) {
		t.Errorf("same node, right after revoke: %v, want ErrRevoked", err)
	}

	if err := nodeB.RevokeKey(c, k2.ID); err != nil {
		t.Fatal(err)
	}
	clk.Advance(ttl - time.Millisecond)
	if _, err := nodeA.Authenticate(c, plain2); err != nil {
		t.Errorf("other node, within the cache TTL: %v; the documented bound says still accepted", err)
	}
	clk.Advance(time.Millisecond)
	if _, err := nodeA.Authenticate(c, plain2); !errors.Is(err, tenant.ErrRevoked) {
		t.Errorf("other node, CacheTTL after revoke: %v, want ErrRevoked", err)
	}

	// Without a cache every request rereads the record.
	nodeC := tenant.New(js, tenant.Config{Now: clk.Now, CacheTTL: -1}, nil)
	_, plain3 := mustKey(t, nodeC, "acme", tenant.RoleReadOnly)
	if _, err := nodeC.Authenticate(c, plain3); err != nil {
		t.Fatal(err)
	}
	id3, _ := tenant.KeyID(plain3)
	if err := nodeB.RevokeKey(c, id3); err != nil {
		t.Fatal(err)
	}
	if _, err := nodeC.Authenticate(c, plain3); !errors.Is(err, tenant.ErrRevoked) {
		t.Errorf("uncached node after a remote revoke: %v, want ErrRevoked", err)
	}
}

func TestRevokeKey(t *testing.T) {
	s, _, clk := newStore(t)
	c := ctx(t)
	mustTenant(t, s, "acme")
	k, _ := mustKey(t, s, "acme", tenant.RoleAdmin)
	if err := s.RevokeKey(c, k.ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetKey(c, k.ID)
	if err != nil || got.Active() || !got.Revoked.Equal(clk.Now()) {
		t.Fatalf("after revoke: %+v, %v", got, err)
	}
	clk.Advance(time.Hour)
	if err := s.RevokeKey(c, k.ID); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	if again, _ := s.GetKey(c, k.ID); !again.Revoked.Equal(got.Revoked) {
		t.Errorf("second revoke moved the revocation time: %v -> %v", got.Revoked, again.Revoked)
	}
	for _, id := range []string{"0123456789abcdef", "not-an-id"} {
		if err := s.RevokeKey(c, id); !errors.Is(err, tenant.ErrNotFound) {
			t.Errorf("RevokeKey(%q): %v, want ErrNotFound", id, err)
		}
	}
}

func TestListKeys(t *testing.T) {
	s, _, clk := newStore(t)
	c := ctx(t)
	mustTenant(t, s, "acme")
	mustTenant(t, s, "beta")
	var acme []string
	for _, role := range []tenant.Role{tenant.RoleAdmin, tenant.RoleViewerIssuer, tenant.RoleReadOnly} {
		k, _ := mustKey(t, s, "acme", role)
		acme = append(acme, k.ID)
		clk.Advance(time.Second)
	}
	beta, _ := mustKey(t, s, "beta", tenant.RoleAdmin)
	op, _, err := s.CreateKey(c, "", tenant.RoleOperator, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeKey(c, acme[1]); err != nil {
		t.Fatal(err)
	}
	ids := func(tn string) []string {
		ks, err := s.ListKeys(c, tn)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range ks {
			if k.Tenant != tn {
				t.Errorf("ListKeys(%q) returned a key of %q", tn, k.Tenant)
			}
			out = append(out, k.ID)
		}
		return out
	}
	if got := ids("acme"); !slices.Equal(got, acme) {
		t.Errorf("acme keys %q, want %q (oldest first, revoked included)", got, acme)
	}
	if got := ids("beta"); !slices.Equal(got, []string{beta.ID}) {
		t.Errorf("beta keys %q", got)
	}
	if got := ids(""); !slices.Equal(got, []string{op.ID}) {
		t.Errorf("operator keys %q", got)
	}
	if got := ids("nobody"); len(got) != 0 {
		t.Errorf("keys of a tenant without any: %q", got)
	}
}

// TestLastUsed: recorded on use, at most once a minute.
func TestLastUsed(t *testing.T) {
	s, _, clk := newStore(t)
	c := ctx(t)
	mustTenant(t, s, "acme")
	k, plain := mustKey(t, s, "acme", tenant.RoleAdmin)
	if !k.LastUsed.IsZero() {
		t.Fatalf("new key LastUsed = %v", k.LastUsed)
	}
	first := clk.Now()
	if _, err := s.Authenticate(c, plain); err != nil {
		t.Fatal(err)
	}
	lastUsed := func() time.Time {
		got, err := s.GetKey(c, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.LastUsed
	}
	if got := lastUsed(); !got.Equal(first) {
		t.Errorf("LastUsed %v, want %v", got, first)
	}
	clk.Advance(30 * time.Second)
	if _, err := s.Authenticate(c, plain); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(first) {
		t.Errorf("LastUsed moved within a minute: %v", got)
	}
	clk.Advance(31 * time.Second)
	if _, err := s.Authenticate(c, plain); err != nil {
		t.Fatal(err)
	}
	if got := lastUsed(); !got.Equal(clk.Now()) {
		t.Errorf("LastUsed %v, want %v after a minute", got, clk.Now())
	}
}
