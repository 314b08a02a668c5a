package tenant_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"onair/internal/tenant"
)

func TestValidID(t *testing.T) {
	cases := []struct {
		id   string
		want bool
	}{
		{"acme", true},
		{"a", true},
		{"0", true},
		{"acme-tv-2", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"-acme", false},
		{"Acme", false},
		{"acme_tv", false},
		{"acme.tv", false},
		{"acme tv", false},
		{"acme/x", false},
		{"äcme", false},
	}
	for _, c := range cases {
		if got := tenant.ValidID(c.id); got != c.want {
			t.Errorf("ValidID(%q) = %v, want %v", c.id, got, c.want)
		}
	}
}

func TestTenantLifecycle(t *testing.T) {
	s, _, clk := newStore(t)
	c := ctx(t)
	got, err := s.CreateTenant(c, "acme", "ACME Broadcasting")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "acme" || got.Name != "ACME Broadcasting" || !got.Created.Equal(clk.Now()) {
		t.Errorf("CreateTenant = %+v", got)
	}
	if _, err := s.CreateTenant(c, "acme", "again"); !errors.Is(err, tenant.ErrExists) {
		t.Errorf("second CreateTenant: %v, want ErrExists", err)
	}
	if tn, err := s.CreateTenant(c, "beta", ""); err != nil || tn.Name != "beta" {
		t.Errorf("CreateTenant without name = %+v, %v; want the id as name", tn, err)
	}
	if tn, err := s.GetTenant(c, "acme"); err != nil || tn != got {
		t.Errorf("GetTenant = %+v, %v; want %+v", tn, err, got)
	}
	list, err := s.ListTenants(c)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tn := range list {
		ids = append(ids, tn.ID)
	}
	if !slices.Equal(ids, []string{"acme", "beta"}) {
		t.Errorf("ListTenants ids = %q", ids)
	}
	if err := s.DeleteTenant(c, "beta"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetTenant(c, "beta"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("GetTenant after delete: %v, want ErrNotFound", err)
	}
	if err := s.DeleteTenant(c, "beta"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("DeleteTenant twice: %v, want ErrNotFound", err)
	}
	// The id is free again.
	if _, err := s.CreateTenant(c, "beta", ""); err != nil {
		t.Errorf("recreate: %v", err)
	}
}

func TestCreateTenantInvalid(t *testing.T) {
	s, _, _ := newStore(t)
	cases := []struct{ id, name string }{
		{"", "x"},
		{"Acme", "x"},
		{"acme_1", "x"},
		{"acme", strings.Repeat("n", 201)},
		{"acme", "line\nbreak"},
		{"acme", "\xff\xfe"},
	}
	for _, c := range cases {
		if _, err := s.CreateTenant(ctx(t), c.id, c.name); !errors.Is(err, tenant.ErrInvalid) {
			t.Errorf("CreateTenant(%q, %q) = %v, want ErrInvalid", c.id, c.name, err)
		}
	}
	if list, err := s.ListTenants(ctx(t)); err != nil || len(list) != 0 {
		t.Errorf("ListTenants = %v, %v; want none stored", list, err)
	}
}

// TestDeleteTenantWithKeys: refused while a key is active; once every key
// is revoked the tenant and its key records go.
func TestDeleteTenantWithKeys(t *testing.T) {
	s, _, _ := newStore(t)
	c := ctx(t)
	mustTenant(t, s, "acme")
	k1, _ := mustKey(t, s, "acme", tenant.RoleAdmin)
	k2, _ := mustKey(t, s, "acme", tenant.RoleReadOnly)
	if err := s.RevokeKey(c, k1.ID); err != nil {
		t.Fatal(err)
	}
	err := s.DeleteTenant(c, "acme")
	if !errors.Is(err, tenant.ErrHasKeys) || !strings.Contains(err.Error(), k2.ID) {
		t.Fatalf("DeleteTenant with an active key: %v, want ErrHasKeys naming %s", err, k2.ID)
	}
	if _, err := s.GetTenant(c, "acme"); err != nil {
		t.Fatalf("tenant gone after a refused delete: %v", err)
	}
	if err := s.RevokeKey(c, k2.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTenant(c, "acme"); err != nil {
		t.Fatalf("DeleteTenant with only revoked keys: %v", err)
	}
	for _, id := range []string{k1.ID, k2.ID} {
		if _, err := s.GetKey(c, id); !errors.Is(err, tenant.ErrNotFound) {
			t.Errorf("key %s after tenant delete: %v, want ErrNotFound", id, err)
		}
	}
}
