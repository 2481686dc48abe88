package guardrails

import (
	"sort"
	"strings"

	"github.com/tenantstack/tenantstack/internal/tenantspec"
)

// Type tokens of the resources the rules look at.
const (
	TypeNamespace          = "kubernetes:core/v1:Namespace"
	TypeResourceQuota      = "kubernetes:core/v1:ResourceQuota"
	TypeLimitRange         = "kubernetes:core/v1:LimitRange"
	TypeServiceAccount     = "kubernetes:core/v1:ServiceAccount"
	TypeSecret             = "kubernetes:core/v1:Secret"
	TypeNetworkPolicy      = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	TypeRole               = "kubernetes:rbac.authorization.k8s.io/v1:Role"
	TypeClusterRole        = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
	TypeRoleBinding        = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
	TypeClusterRoleBinding = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"

	TypePostgresRole     = "tenantstack:postgres:Role"
	TypePostgresDatabase = "tenantstack:postgres:Database"
	TypeRedisACLUser     = "tenantstack:redis:AclUser"
)

// Labels the rules read.
const (
	// TenantLabel marks a Namespace as a tenant's, whatever its name. It is
	// the tenant domain's label, the one the TenantStack component sets.
	TenantLabel = tenantspec.TenantLabel
	// TenantNamespacePrefix starts the name of every tenant namespace
	// tenantstack creates (tenantspec.Namespace).
	TenantNamespacePrefix = tenantspec.NamespacePrefix
	// PodSecurityEnforceLabel selects the Pod Security Standard the API server enforces.
	PodSecurityEnforceLabel = "pod-security.kubernetes.io/enforce"
)

// NamespaceFilter reports whether objects in the namespace called ns are
// tenant objects.
type NamespaceFilter func(ns string) bool

// IsTenantNamespaceName reports whether ns is named like a tenant namespace.
// It is the filter resource policies use: they see one resource at a time and
// so cannot know which namespaces are labelled.
func IsTenantNamespaceName(ns string) bool { return strings.HasPrefix(ns, TenantNamespacePrefix) }

// isTenantNamespace reports whether the Namespace ns is a tenant's: named
// tenant-* or labelled tenantstack.io/tenant.
func isTenantNamespace(ns Resource) bool {
	if name, ok := stringOf(lookup(ns.Props, "metadata", "name")); ok && IsTenantNamespaceName(name) {
		return true
	}
	labels := lookup(ns.Props, "metadata", "labels")
	if !labels.IsMap() {
		return false
	}
	_, ok := labels.AsMap().GetOk(TenantLabel)
	return ok
}

// tenantNamespaces returns the known names of the stack's tenant Namespaces,
// mapped to the Namespace resource.
func tenantNamespaces(rs []Resource) map[string]Resource {
	out := map[string]Resource{}
	for _, r := range rs {
		if r.Type != TypeNamespace || !isTenantNamespace(r) {
			continue
		}
		if name, ok := stringOf(lookup(r.Props, "metadata", "name")); ok {
			out[name] = r
		}
	}
	return out
}

// stackTenantFilter is the filter for a whole stack: tenant-* names, and the
// Namespaces in the stack labelled as a tenant's.
func stackTenantFilter(rs []Resource) NamespaceFilter {
	tenants := tenantNamespaces(rs)
	return func(ns string) bool {
		_, ok := tenants[ns]
		return ok || IsTenantNamespaceName(ns)
	}
}

// labelOnlyFilter matches the namespaces that are tenants only by label, the
// ones resource policies cannot recognise.
func labelOnlyFilter(rs []Resource) NamespaceFilter {
	tenants := tenantNamespaces(rs)
	return func(ns string) bool {
		_, ok := tenants[ns]
		return ok && !IsTenantNamespaceName(ns)
	}
}

// namespaceOf returns the known metadata.namespace of a namespaced object.
func namespaceOf(r Resource) (string, bool) {
	return stringOf(lookup(r.Props, "metadata", "namespace"))
}

// objectName is the Kubernetes name of r, or its Pulumi name when unknown.
func objectName(r Resource) string { return displayName(r, "metadata", "name") }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
