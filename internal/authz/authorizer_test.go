package authz_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"onair/internal/authz"
)

func newAuthorizer(t testing.TB, cfg authz.Config) (*authz.Authorizer, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	a, err := authz.New(cfg, nil, reg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a, reg
}

// expected is the intended policy, written independently of the Cedar
// file: which actions each tenant role may take inside its own tenant.
var tenantRoleActions = map[string][]string{
	authz.RoleAdmin:        authz.Actions(),
	authz.RoleViewerIssuer: {authz.ActionList, authz.ActionRead, authz.ActionIssueToken},
	authz.RoleReadOnly:     {authz.ActionList, authz.ActionRead},
}

var rolePolicy = map[string]string{
	authz.RoleAdmin:        "tenant-admin",
	authz.RoleViewerIssuer: "tenant-viewer-issuer",
	authz.RoleReadOnly:     "tenant-read-only",
}

// TestMatrix checks every action x resource type x role x same/other tenant,
// and the operator, against the intended policy: allow or deny, and the id
// of the policy that decided.
func TestMatrix(t *testing.T) {
	a, _ := newAuthorizer(t, authz.Config{})
	type tc struct {
		p       authz.Principal
		action  string
		r       authz.Resource
		allowed bool
		reasons []string
	}
	var cases []tc
	for _, typ := range authz.ResourceTypes() {
		for _, action := range authz.Actions() {
			lifecycle := typ == authz.TypeTenant && (action == authz.ActionCreate || action == authz.ActionDelete)
			forbid := []string(nil)
			if lifecycle {
				forbid = []string{"tenant-lifecycle-operator-only"}
			}
			op := authz.Principal{ID: "op1", Role: authz.RoleOperator}
			for _, tenant := range []string{"acme", "other", ""} {
				cases = append(cases, tc{op, action, authz.Resource{Type: typ, ID: "x", Tenant: tenant}, true, []string{"operator"}})
			}
			for role, actions := range tenantRoleActions {
				p := authz.Principal{ID: "k1", Tenant: "acme", Role: role}
				same := slices.Contains(actions, action) && !lifecycle
				want := []string{rolePolicy[role]}
				if !same {
					want = forbid
				}
				cases = append(cases,
					tc{p, action, authz.Resource{Type: typ, ID: "x", Tenant: "acme"}, same, want},
					tc{p, action, authz.Resource{Type: typ, ID: "x", Tenant: "other"}, false, forbid},
					tc{p, action, authz.Resource{Type: typ, Tenant: ""}, false, forbid}, // server-wide
				)
			}
		}
	}
	for _, c := range cases {
		name := fmt.Sprintf("%s@%s/%s/%s@%s", c.p.Role, c.p.Tenant, c.action, c.r.Type, c.r.Tenant)
		t.Run(name, func(t *testing.T) {
			d := a.Authorize(c.p, c.action, c.r)
			if d.Allowed != c.allowed || !slices.Equal(d.Reasons, c.reasons) || len(d.Errors) > 0 {
				t.Errorf("got allowed=%v reasons=%q errors=%q, want allowed=%v reasons=%q",
					d.Allowed, d.Reasons, d.Errors, c.allowed, c.reasons)
			}
		})
	}
}

// TestDenials covers principals and requests that must never pass.
func TestDenials(t *testing.T) {
	a, _ := newAuthorizer(t, authz.Config{})
	ch := authz.Resource{Type: authz.TypeChannel, ID: "news", Tenant: "acme"}
	cases := []struct {
		name    string
		p       authz.Principal
		action  string
		r       authz.Resource
		wantErr string
	}{
		{"unknown role", authz.Principal{ID: "k", Tenant: "acme", Role: "superuser"}, authz.ActionRead, ch, ""},
		{"no role", authz.Principal{ID: "k", Tenant: "acme"}, authz.ActionRead, ch, ""},
		{"admin without tenant on server-wide", authz.Principal{ID: "k", Role: authz.RoleAdmin}, authz.ActionRead,
			authz.Resource{Type: authz.TypeServer}, ""},
		{"role is case-sensitive", authz.Principal{ID: "k", Role: "Operator"}, authz.ActionRead, ch, ""},
		{"unknown action", authz.Principal{ID: "k", Role: authz.RoleOperator}, "Read", ch, `unknown action "Read"`},
		{"unknown resource type", authz.Principal{ID: "k", Role: authz.RoleOperator}, authz.ActionRead,
			authz.Resource{Type: "channel", Tenant: "acme"}, `unknown resource type "channel"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := a.Authorize(c.p, c.action, c.r)
			if d.Allowed || len(d.Reasons) > 0 {
				t.Errorf("got allowed=%v reasons=%q, want a default deny", d.Allowed, d.Reasons)
			}
			if got := strings.Join(d.Errors, "; "); got != c.wantErr {
				t.Errorf("errors = %q, want %q", got, c.wantErr)
			}
		})
	}
}

func TestPolicyIDs(t *testing.T) {
	a, _ := newAuthorizer(t, authz.Config{})
	want := []string{"operator", "tenant-admin", "tenant-viewer-issuer", "tenant-read-only", "tenant-lifecycle-operator-only"}
	if got := a.PolicyIDs(); !slices.Equal(got, want) {
		t.Errorf("PolicyIDs = %q, want %q", got, want)
	}
}

func TestDecisionsMetric(t *testing.T) {
	a, reg := newAuthorizer(t, authz.Config{})
	admin := authz.Principal{ID: "k", Tenant: "acme", Role: authz.RoleAdmin}
	ch := authz.Resource{Type: authz.TypeChannel, ID: "news", Tenant: "acme"}
	a.Authorize(admin, authz.ActionRead, ch)
	a.Authorize(admin, authz.ActionRead, ch)
	a.Authorize(admin, authz.ActionDelete, authz.Resource{Type: authz.TypeChannel, Tenant: "other"})
	a.Authorize(admin, "frobnicate", ch)
	// Only the non-zero series: zeros are exposed for every pair.
	var got strings.Builder
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if v := m.GetCounter().GetValue(); v != 0 {
				fmt.Fprintf(&got, "%v=%v/%v ", v, m.GetLabel()[0].GetValue(), m.GetLabel()[1].GetValue())
			}
		}
	}
	if g := got.String(); g != "1=delete/deny 2=read/allow 1=unknown/deny " {
		t.Errorf("non-zero series: %s", g)
	}
	if n := testutil.CollectAndCount(reg, "onair_authz_decisions_total"); n != 2*(len(authz.Actions())+1) {
		t.Errorf("%d series, want a zero for every action and decision", n)
	}
}

func writePolicies(t *testing.T, doc string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "extra.cedar")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExtraPolicyFileErrors: a policy file that cannot be used stops New
// with an error naming the file, the place and the problem.
func TestExtraPolicyFileErrors(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string // substrings of the error
	}{
		{"syntax error", "@id(\"x\")\npermit (principal, action, resource) when { principal.role == };\n",
			[]string{"extra.cedar", ":2:"}},
		{"missing id", "permit (principal, action, resource);\n",
			[]string{"extra.cedar:1:1", "no @id"}},
		{"empty id", "@id(\"\") permit (principal, action, resource);\n",
			[]string{"extra.cedar:1:1", "no @id"}},
		{"duplicate id in the file", "@id(\"a\") permit (principal, action, resource);\n@id(\"a\") forbid (principal, action, resource);\n",
			[]string{"extra.cedar:2:1", `"a" is already used at`, "extra.cedar:1:1"}},
		{"id of a built-in policy", "@id(\"operator\") permit (principal, action, resource);\n",
			[]string{`"operator" is already used at policies.cedar`}},
		{"unknown action", "@id(\"a\") permit (principal, action == Action::\"reed\", resource);\n",
			[]string{`policy "a" does not match the onair schema`, "reed"}},
		{"misspelt attribute", "@id(\"a\") permit (principal, action, resource) when { principal.tenent == \"x\" };\n",
			[]string{`policy "a" does not match the onair schema`, "tenent"}},
		{"unknown entity type", "@id(\"a\") permit (principal is User, action, resource);\n",
			[]string{`policy "a"`, "User"}},
		{"every problem reported", "permit (principal, action, resource);\n@id(\"b\") permit (principal, action == Action::\"reed\", resource);\n",
			[]string{"extra.cedar:1:1", "no @id", `policy "b"`}},
		{"empty file", "// nothing\n", []string{"extra.cedar: no policies"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writePolicies(t, c.doc)
			_, err := authz.New(authz.Config{PolicyFile: path}, nil, prometheus.NewRegistry())
			if err == nil {
				t.Fatal("New accepted the file")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, err := authz.New(authz.Config{PolicyFile: filepath.Join(t.TempDir(), "nope.cedar")}, nil, prometheus.NewRegistry())
		if err == nil || !strings.Contains(err.Error(), "nope.cedar") {
			t.Errorf("err = %v, want one naming the file", err)
		}
	})
}

// TestExtraPolicies: operator policies add forbids and permits, and their
// ids appear as reasons.
func TestExtraPolicies(t *testing.T) {
	path := writePolicies(t, `
// acme may not delete anything, whatever its role.
@id("acme-no-deletes")
forbid (principal, action == Action::"delete", resource)
when { principal.tenant == "acme" };

// Admins may not mint admin keys; only operators may.
@id("no-admin-minting")
forbid (principal, action == Action::"create", resource is ApiKey)
when { resource.role == "admin" && principal.role != "operator" };

// read-only keys of tenant "watch" may also read content keys.
@id("watch-reads-keys")
permit (principal, action == Action::"read_keys", resource)
when { principal.tenant == "watch" && principal.role == "read-only" && resource.tenant == "watch" };

// A broken policy: evaluation overflows. It must never allow anything.
@id("broken")
permit (principal, action, resource) when { 9223372036854775807 + 1 > 0 };
`)
	a, _ := newAuthorizer(t, authz.Config{PolicyFile: path})
	admin := authz.Principal{ID: "k", Tenant: "acme", Role: authz.RoleAdmin}
	cases := []struct {
		name    string
		p       authz.Principal
		action  string
		r       authz.Resource
		allowed bool
		reasons []string
	}{
		{"forbid beats permit", admin, authz.ActionDelete, authz.Resource{Type: authz.TypeChannel, ID: "news", Tenant: "acme"},
			false, []string{"acme-no-deletes"}},
		{"other actions still allowed", admin, authz.ActionUpdate, authz.Resource{Type: authz.TypeChannel, ID: "news", Tenant: "acme"},
			true, []string{"tenant-admin"}},
		{"admin may not mint admin keys", admin, authz.ActionCreate, authz.Resource{Type: authz.TypeAPIKey, Tenant: "acme", Role: authz.RoleAdmin},
			false, []string{"no-admin-minting"}},
		{"admin may mint read-only keys", admin, authz.ActionCreate, authz.Resource{Type: authz.TypeAPIKey, Tenant: "acme", Role: authz.RoleReadOnly},
			true, []string{"tenant-admin"}},
		{"operator may mint admin keys", authz.Principal{ID: "op", Role: authz.RoleOperator}, authz.ActionCreate,
			authz.Resource{Type: authz.TypeAPIKey, Tenant: "acme", Role: authz.RoleAdmin}, true, []string{"operator"}},
		{"extra permit", authz.Principal{ID: "k", Tenant: "watch", Role: authz.RoleReadOnly}, authz.ActionReadKeys,
			authz.Resource{Type: authz.TypeChannel, ID: "news", Tenant: "watch"}, true, []string{"watch-reads-keys"}},
		{"extra permit is scoped", authz.Principal{ID: "k", Tenant: "acme", Role: authz.RoleReadOnly}, authz.ActionReadKeys,
			authz.Resource{Type: authz.TypeChannel, ID: "news", Tenant: "acme"}, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := a.Authorize(c.p, c.action, c.r)
			if d.Allowed != c.allowed || !slices.Equal(d.Reasons, c.reasons) {
				t.Errorf("got allowed=%v reasons=%q, want allowed=%v reasons=%q", d.Allowed, d.Reasons, c.allowed, c.reasons)
			}
			if len(d.Errors) != 1 || !strings.HasPrefix(d.Errors[0], "broken: ") {
				t.Errorf("errors = %q, want the broken policy's overflow", d.Errors)
			}
		})
	}
}

func BenchmarkAuthorize(b *testing.B) {
	a, _ := newAuthorizer(b, authz.Config{})
	p := authz.Principal{ID: "0123456789abcdef", Tenant: "acme", Role: authz.RoleViewerIssuer}
	r := authz.Resource{Type: authz.TypeChannel, ID: "news", Tenant: "acme"}
	b.ReportAllocs()
	for b.Loop() {
		if !a.Authorize(p, authz.ActionIssueToken, r).Allowed {
			b.Fatal("denied")
		}
	}
}
