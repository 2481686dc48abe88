package guardrails

import (
	"testing"

	"github.com/tenantstack/tenantstack/components/tenant"
	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// TestTenantNamesMatchTheComponent: the pack recognises tenants by the label
// and namespace names the TenantStack component really gives them. If either
// drifts, the pack would stop guarding new tenants, so this fails.
func TestTenantNamesMatchTheComponent(t *testing.T) {
	for _, id := range []string{"acme", "acme-co", "a1"} {
		ns := tenant.Namespace(id)
		if !IsTenantNamespaceName(ns) {
			t.Errorf("the component's namespace %q for tenant %q is not a tenant namespace to the pack", ns, id)
		}
	}
	// The label is the domain's constant itself (TenantLabel), so it
	// cannot drift; the prefix is checked against the names above.
	if got := tenantspec.NamespacePrefix + "acme"; got != tenant.Namespace("acme") {
		t.Errorf("domain prefix gives %q, component %q", got, tenant.Namespace("acme"))
	}
	if IsTenantNamespaceName("kube-system") || IsTenantNamespaceName("observability") {
		t.Error("platform namespaces are taken for tenant namespaces")
	}
}
