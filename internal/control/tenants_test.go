package control_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"onair/internal/control"
	"onair/internal/natstest"
	"onair/internal/tenant"
)

// tenantEnv is an API with real tenants (internal/tenant on an embedded
// JetStream) over the fake manager, with two tenants, a and b, and keys.
type tenantEnv struct {
	h     http.Handler
	fake  *fakeManager
	store *tenant.Store
	keys  map[string]string // name -> plaintext key
	bKey  tenant.APIKey     // b's admin key record
}

const opToken = "operator-secret-token"

func newTenantEnv(t *testing.T) *tenantEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	st := tenant.New(natstest.JetStream(t, "control-test"), tenant.Config{}, nil)
	e := &tenantEnv{fake: newFakeManager(), store: st, keys: map[string]string{}}
	api, err := control.New(control.Config{Token: opToken, Tenants: st}, e.fake, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	e.h = api.Handler()
	for _, id := range []string{"a", "b"} {
		if _, err := st.CreateTenant(ctx, id, "Tenant "+id); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []struct {
		name, tenant string
		role         tenant.Role
	}{
		{"a-admin", "a", tenant.RoleAdmin}, {"a-issuer", "a", tenant.RoleViewerIssuer},
		{"a-read", "a", tenant.RoleReadOnly}, {"b-admin", "b", tenant.RoleAdmin},
	} {
		rec, plain, err := st.CreateKey(ctx, k.tenant, k.role, k.name)
		if err != nil {
			t.Fatal(err)
		}
		e.keys[k.name] = plain
		if k.name == "b-admin" {
			e.bKey = rec
		}
	}
	for _, c := range []struct{ name, tenant string }{{"a-news", "a"}, {"b-news", "b"}, {"op-news", ""}} {
		if _, err := e.fake.CreateChannel(ctx, control.ChannelSpec{Name: c.name, Tenant: c.tenant, Pipelines: "standard"}, ""); err != nil {
			t.Fatal(err)
		}
		e.fake.addSession(c.name, "s1")
		e.fake.events = append(e.fake.events, control.Event{Kind: "edge.manifest_age.raised", Channel: c.name, Reason: "stopped"})
	}
	e.fake.events = append(e.fake.events, control.Event{Kind: "server.started", Reason: "server-wide"})
	return e
}

// do serves one request presenting key (a name in e.keys, "op" for the
// operator token) from a remote address.
func (e *tenantEnv) do(t *testing.T, key, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "192.0.2.10:40000"
	req.Host = "onair.test"
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	tok := opToken
	if key != "op" {
		tok = e.keys[key]
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// endpoint is one API call on a tenant's resources; {ch}, {t}, {key} are
// replaced by the target tenant's channel, id and admin key id.
type endpoint struct {
	method, path, body string
	own                int // status for the tenant's own admin
}

func endpoints() []endpoint {
	return []endpoint{
		{"GET", "/api/v1/channels/{ch}", "", 200},
		{"PATCH", "/api/v1/channels/{ch}", `{"access":"signed"}`, 200},
		{"POST", "/api/v1/channels/{ch}/stop", "", 200},
		{"POST", "/api/v1/channels/{ch}/start", "", 200},
		{"POST", "/api/v1/channels/{ch}/input", `{"input":"auto"}`, 200},
		{"POST", "/api/v1/channels/{ch}/pipelines/b", `{"action":"promote"}`, 200},
		{"POST", "/api/v1/channels/{ch}/tokens", `{"ttl":"1m"}`, 201},
		{"GET", "/api/v1/channels/{ch}/sessions", "", 200},
		{"DELETE", "/api/v1/channels/{ch}/sessions/s1", "", 204},
		{"GET", "/api/v1/events?channel={ch}", "", 200},
		{"GET", "/api/v1/tenants/{t}", "", 200},
		{"GET", "/api/v1/tenants/{t}/keys", "", 200},
		{"POST", "/api/v1/tenants/{t}/keys", `{"role":"read-only"}`, 201},
		{"DELETE", "/api/v1/tenants/{t}/keys/{key}", "", 204},
		{"DELETE", "/api/v1/tenants/{t}", "", 403}, // only operators delete tenants
		{"DELETE", "/api/v1/channels/{ch}", "", 204},
	}
}

func fill(s, ch, tn, key string) string {
	return strings.NewReplacer("{ch}", ch, "{t}", tn, "{key}", key).Replace(s)
}

// TestTenantIsolation: tenant a's keys can neither see nor touch tenant
// b's channels, sessions, events, tenant record or API keys, through any
// endpoint; every refusal is a 404 worded like a missing resource. The
// same calls on a's own resources succeed, so the refusals are not just
// a broken endpoint.
func TestTenantIsolation(t *testing.T) {
	e := newTenantEnv(t)
	aKeys, err := e.store.ListKeys(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	var aRead string
	for _, k := range aKeys {
		if k.Description == "a-read" {
			aRead = k.ID
		}
	}
	for _, key := range []string{"a-admin", "a-issuer", "a-read"} {
		for _, ep := range endpoints() {
			path := fill(ep.path, "b-news", "b", e.bKey.ID)
			t.Run(key+" "+ep.method+" "+path, func(t *testing.T) {
				rec := e.do(t, key, ep.method, path, ep.body)
				if rec.Code != http.StatusNotFound {
					t.Fatalf("status %d, want 404: %s", rec.Code, rec.Body)
				}
				if strings.Contains(rec.Body.String(), "Tenant b") || strings.Contains(rec.Body.String(), "key-b-news") {
					t.Errorf("refusal leaks b's data: %s", rec.Body)
				}
				// Worded exactly as for something that does not exist.
				ghost := e.do(t, key, ep.method, fill(ep.path, "zz-none", "zz-none", "0123456789abcdef"), ep.body)
				want := strings.NewReplacer("zz-none", "b-news").Replace(ghost.Body.String())
				if strings.Contains(path, "/tenants/") {
					want = strings.NewReplacer("zz-none", "b", "0123456789abcdef", e.bKey.ID).Replace(ghost.Body.String())
				}
				if ghost.Code != http.StatusNotFound || rec.Body.String() != want {
					t.Errorf("refusal %d %q differs from a missing resource's %d %q", rec.Code, rec.Body, ghost.Code, ghost.Body)
				}
			})
		}
	}

	// Nothing of b's changed.
	if ch, err := e.fake.GetChannel(t.Context(), "b-news", ""); err != nil || ch.Access != "" || ch.ActivePipeline != "a" {
		t.Errorf("b-news changed: %+v %v", ch, err)
	}
	if ss, _ := e.fake.Sessions(t.Context(), "b-news"); len(ss) != 1 || ss[0].Revoked != nil {
		t.Errorf("b's session revoked: %+v", ss)
	}
	if _, err := e.store.Authenticate(t.Context(), e.keys["b-admin"]); err != nil {
		t.Errorf("b's key no longer works: %v", err)
	}

	// Lists show a's own only.
	for _, key := range []string{"a-admin", "a-read"} {
		body := e.do(t, key, "GET", "/api/v1/channels", "").Body.String()
		if !strings.Contains(body, `"a-news"`) || strings.Contains(body, "b-news") || strings.Contains(body, "op-news") {
			t.Errorf("%s channel list: %s", key, body)
		}
		body = e.do(t, key, "GET", "/api/v1/events", "").Body.String()
		if !strings.Contains(body, "a-news") || strings.Contains(body, "b-news") || strings.Contains(body, "server-wide") {
			t.Errorf("%s event list: %s", key, body)
		}
		body = e.do(t, key, "GET", "/api/v1/tenants", "").Body.String()
		if !strings.Contains(body, `"a"`) || strings.Contains(body, `"b"`) {
			t.Errorf("%s tenant list: %s", key, body)
		}
	}

	// A tenant key cannot create in another tenant, make tenants, or
	// reach server-wide endpoints.
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/v1/channels", `{"name":"sneaky","tenant":"b"}`},
		{"POST", "/api/v1/tenants", `{"id":"c"}`},
		{"POST", "/api/v1/alerts/alertmanager", `{"version":"4","status":"firing","alerts":[]}`},
		{"GET", "/api/v1/channels/op-news", ""},
	} {
		if rec := e.do(t, "a-admin", c.method, c.path, c.body); rec.Code != http.StatusForbidden && rec.Code != http.StatusNotFound {
			t.Errorf("a-admin %s %s: %d, want 403 or 404: %s", c.method, c.path, rec.Code, rec.Body)
		}
	}

	// Own resources: the admin may do everything listed, in order.
	for _, ep := range endpoints() {
		path := fill(ep.path, "a-news", "a", aRead)
		if rec := e.do(t, "a-admin", ep.method, path, ep.body); rec.Code != ep.own {
			t.Errorf("a-admin %s %s: %d, want %d: %s", ep.method, path, rec.Code, ep.own, rec.Body)
		}
	}
	// A channel made by a's admin belongs to a.
	rec := e.do(t, "a-admin", "POST", "/api/v1/channels", `{"name":"a-sport"}`)
	var ch control.Channel
	if err := json.Unmarshal(rec.Body.Bytes(), &ch); rec.Code != 201 || err != nil || ch.Tenant != "a" {
		t.Errorf("create as a-admin: %d %s", rec.Code, rec.Body)
	}
	// The operator sees and may touch everything.
	body := e.do(t, "op", "GET", "/api/v1/channels", "").Body.String()
	for _, name := range []string{"a-sport", "b-news", "op-news"} {
		if !strings.Contains(body, name) {
			t.Errorf("operator list misses %s: %s", name, body)
		}
	}
	if rec := e.do(t, "op", "GET", "/api/v1/channels/b-news/sessions", ""); rec.Code != 200 {
		t.Errorf("operator sessions of b-news: %d", rec.Code)
	}
}

// TestTenantRoles: what each role of tenant a may do to a's own channel.
func TestTenantRoles(t *testing.T) {
	e := newTenantEnv(t)
	for _, tc := range []struct {
		key, method, path, body string
		want                    int
	}{
		{"a-read", "GET", "/api/v1/channels/a-news", "", 200},
		{"a-read", "GET", "/api/v1/channels/a-news/sessions", "", 200},
		{"a-read", "PATCH", "/api/v1/channels/a-news", `{"access":"signed"}`, 403},
		{"a-read", "POST", "/api/v1/channels/a-news/tokens", "", 403},
		{"a-read", "DELETE", "/api/v1/channels/a-news/sessions/s1", "", 403},
		{"a-read", "POST", "/api/v1/tenants/a/keys", `{"role":"admin"}`, 403},
		{"a-read", "POST", "/api/v1/channels", `{"name":"a-more"}`, 403},
		{"a-issuer", "POST", "/api/v1/channels/a-news/tokens", "", 201},
		{"a-issuer", "POST", "/api/v1/channels/a-news/stop", "", 403},
		{"a-issuer", "DELETE", "/api/v1/channels/a-news", "", 403},
		{"a-admin", "POST", "/api/v1/tenants/a/keys", `{"role":"operator"}`, 400},
		{"a-admin", "POST", "/api/v1/tenants/a/keys", `{"role":"admin"}`, 201},
		{"op", "DELETE", "/api/v1/tenants/a", "", 409}, // owns a channel
		{"op", "POST", "/api/v1/tenants", `{"id":"c","name":"Tenant c"}`, 201},
		{"op", "POST", "/api/v1/channels", `{"name":"c-news","tenant":"nobody"}`, 400},
		{"op", "POST", "/api/v1/channels", `{"name":"c-news","tenant":"c"}`, 201},
	} {
		if rec := e.do(t, tc.key, tc.method, tc.path, tc.body); rec.Code != tc.want {
			t.Errorf("%s %s %s: %d, want %d: %s", tc.key, tc.method, tc.path, rec.Code, tc.want, rec.Body)
		}
	}

	// Revoked and unknown keys are refused with 401.
	if err := e.store.RevokeKey(t.Context(), e.bKey.ID); err != nil {
		t.Fatal(err)
	}
	if rec := e.do(t, "b-admin", "GET", "/api/v1/channels", ""); rec.Code != 401 || !strings.Contains(rec.Body.String(), "revoked") {
		t.Errorf("revoked key: %d %s", rec.Code, rec.Body)
	}
	e.keys["forged"] = e.keys["a-admin"][:len(e.keys["a-admin"])-2] + "xx"
	if rec := e.do(t, "forged", "GET", "/api/v1/channels", ""); rec.Code != 401 {
		t.Errorf("forged key: %d %s", rec.Code, rec.Body)
	}
}

// TestTenantCLI: the operator makes a tenant and an admin key with the
// CLI; the tenant's admin, with that key as its token, creates a channel,
// lists and revokes its sessions and its keys, and cannot reach the
// operator's tenant commands.
func TestTenantCLI(t *testing.T) {
	e := newTenantEnv(t)
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	t.Setenv("ONAIR_API", srv.URL)
	t.Setenv("ONAIR_TOKEN", opToken)
	out, errOut, err := runCLI(t, "tenant", "create", "acme", "--name", "Acme Media")
	if err != nil || !strings.Contains(out, "tenant acme (Acme Media) created") {
		t.Fatalf("tenant create: %v %q %q", err, out, errOut)
	}
	out, _, err = runCLI(t, "tenant", "key", "create", "acme", "--role", "admin", "--description", "ops")
	key := ""
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "key" {
			key = f[1]
		}
	}
	if err != nil || !strings.HasPrefix(key, "onair_") {
		t.Fatalf("key create: %v %q", err, out)
	}
	t.Setenv("ONAIR_TOKEN", key)
	if out, errOut, err := runCLI(t, "channel", "create", "acme-tv"); err != nil || !strings.Contains(out, "acme-tv") {
		t.Fatalf("channel create as acme: %v %q %q", err, out, errOut)
	}
	e.fake.addSession("acme-tv", "v1")
	if out, _, err := runCLI(t, "channel", "sessions", "acme-tv"); err != nil || !strings.Contains(out, "v1") || !strings.Contains(out, "live") {
		t.Errorf("sessions: %v %q", err, out)
	}
	if out, _, err := runCLI(t, "channel", "revoke-session", "acme-tv", "v1"); err != nil || !strings.Contains(out, "revoked") {
		t.Errorf("revoke-session: %v %q", err, out)
	}
	if out, _, err := runCLI(t, "channel", "sessions", "acme-tv"); err != nil || !strings.Contains(out, "revoked") {
		t.Errorf("sessions after revoke: %v %q", err, out)
	}
	if _, errOut, err := runCLI(t, "channel", "show", "b-news"); err == nil || !strings.Contains(errOut, "not found") {
		t.Errorf("acme sees b-news: %v %q", err, errOut)
	}
	if _, errOut, err := runCLI(t, "tenant", "create", "evil"); err == nil || !strings.Contains(errOut, "may not") {
		t.Errorf("a tenant admin created a tenant: %v %q", err, errOut)
	}
	out, _, err = runCLI(t, "tenant", "key", "list", "acme")
	if err != nil || !strings.Contains(out, "admin") || !strings.Contains(out, "ops") {
		t.Errorf("key list: %v %q", err, out)
	}
	if out, _, err := runCLI(t, "tenant", "list", "--json"); err != nil || !strings.Contains(out, `"acme"`) || strings.Contains(out, `"b"`) {
		t.Errorf("tenant list as acme: %v %q", err, out)
	}
}
