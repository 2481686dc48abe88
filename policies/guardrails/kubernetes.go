package guardrails

import (
	"fmt"
	"slices"
)

// NamespacePodSecurity requires a tenant Namespace to enforce the restricted
// Pod Security Standard, so the API server refuses privileged pods, host
// mounts and root containers in it.
func NamespacePodSecurity(r Resource) []string {
	if r.Type != TypeNamespace || !isTenantNamespace(r) {
		return nil
	}
	v := lookup(r.Props, "metadata", "labels", PodSecurityEnforceLabel)
	if v.IsComputed() {
		return nil
	}
	level, ok := stringOf(v)
	switch {
	case ok && level == "restricted":
		return nil
	case ok:
		return []string{fmt.Sprintf(
			"Namespace %q has label %s: %q; set it to \"restricted\" so Pod Security admission refuses privileged, "+
				"host-access and root pods in a tenant namespace",
			objectName(r), PodSecurityEnforceLabel, level)}
	}
	return []string{fmt.Sprintf(
		"Namespace %q must have label %s: restricted so Pod Security admission refuses privileged, "+
			"host-access and root pods in a tenant namespace; add it to metadata.labels",
		objectName(r), PodSecurityEnforceLabel)}
}

// RoleWildcards forbids "*" in the verbs, resources or apiGroups of a Role in
// a tenant namespace: a wildcard grants what nobody reviewed (with resources
// "*" a tenant could delete its own ResourceQuota).
func RoleWildcards(r Resource, tenant NamespaceFilter) []string {
	if r.Type != TypeRole {
		return nil
	}
	ns, ok := namespaceOf(r)
	if !ok || !tenant(ns) {
		return nil
	}
	var msgs []string
	for _, w := range ruleWildcards(r) {
		msgs = append(msgs, fmt.Sprintf(
			"Role %q in tenant namespace %q has \"*\" in rules[%d].%s; %s",
			objectName(r), ns, w.rule, w.field, wildcardFix[w.field]))
	}
	return msgs
}

// wildcard is one "*" in an RBAC rule: the rule's index and the field.
type wildcard struct {
	rule  int
	field string
}

// rbacRuleFields are the fields of an RBAC PolicyRule where "*" is refused.
var rbacRuleFields = []string{"apiGroups", "resources", "verbs"}

var wildcardFix = map[string]string{
	"apiGroups": "list the API groups explicitly (\"\" for the core group)",
	"resources": "list the resources explicitly (for example pods, configmaps) so the tenant cannot touch " +
		"its ResourceQuota, LimitRange, NetworkPolicies or RBAC",
	"verbs": "list the verbs explicitly (for example get, list, watch, create, update, delete)",
}

func ruleWildcards(r Resource) []wildcard {
	rules := mapList(lookup(r.Props, "rules"))
	var out []wildcard
	for _, i := range sortedInts(rules) {
		for _, field := range rbacRuleFields {
			if slices.Contains(stringList(rules[i].Get(field)), "*") {
				out = append(out, wildcard{rule: i, field: field})
			}
		}
	}
	return out
}

func sortedInts[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ServiceAccountTokenAutomount requires a ServiceAccount in a tenant namespace
// to set automountServiceAccountToken: false, so tenant pods get no API token
// unless a workload asks for one.
func ServiceAccountTokenAutomount(r Resource, tenant NamespaceFilter) []string {
	if r.Type != TypeServiceAccount {
		return nil
	}
	ns, ok := namespaceOf(r)
	if !ok || !tenant(ns) {
		return nil
	}
	v := r.Props.Get("automountServiceAccountToken")
	if v.IsComputed() || isFalse(v) {
		return nil
	}
	return []string{fmt.Sprintf(
		"ServiceAccount %q in tenant namespace %q must set automountServiceAccountToken: false so tenant pods "+
			"get no Kubernetes API token by default; mount one explicitly only where a workload needs it",
		objectName(r), ns)}
}

// ClusterRoleBindingTenantSubjects forbids a ClusterRoleBinding naming a
// ServiceAccount of a tenant namespace: a tenant's permissions stop at its
// namespace.
func ClusterRoleBindingTenantSubjects(r Resource, tenant NamespaceFilter) []string {
	if r.Type != TypeClusterRoleBinding {
		return nil
	}
	var msgs []string
	for _, s := range tenantSubjects(r, "", tenant) {
		msgs = append(msgs, fmt.Sprintf(
			"ClusterRoleBinding %q names ServiceAccount %q of tenant namespace %q in subjects[%d]; grant a tenant "+
				"permissions with a RoleBinding inside its own namespace, never cluster-wide",
			objectName(r), s.name, s.namespace, s.index))
	}
	return msgs
}

// subject is a ServiceAccount named in a binding's subjects.
type subject struct {
	index     int
	namespace string
	name      string
}

// tenantSubjects returns the ServiceAccount subjects of the binding r whose
// namespace is a tenant's. defaultNS is the namespace a RoleBinding gives a
// subject that names none ("" for a ClusterRoleBinding).
func tenantSubjects(r Resource, defaultNS string, tenant NamespaceFilter) []subject {
	subjects := mapList(lookup(r.Props, "subjects"))
	var out []subject
	for _, i := range sortedInts(subjects) {
		s := subjects[i]
		if kind, _ := stringOf(s.Get("kind")); kind != "ServiceAccount" {
			continue
		}
		ns, ok := stringOf(s.Get("namespace"))
		if !ok || ns == "" {
			if s.Get("namespace").IsComputed() {
				continue
			}
			ns = defaultNS
		}
		if ns == "" || !tenant(ns) {
			continue
		}
		name, _ := stringOf(s.Get("name"))
		out = append(out, subject{index: i, namespace: ns, name: name})
	}
	return out
}

// SecretDataIsSecret requires the data and stringData of a Kubernetes Secret
// in a tenant namespace to be Pulumi secrets, so the tenant's credentials are
// encrypted in state and masked in output.
func SecretDataIsSecret(r Resource, tenant NamespaceFilter) []string {
	if r.Type != TypeSecret {
		return nil
	}
	ns, ok := namespaceOf(r)
	if !ok || !tenant(ns) {
		return nil
	}
	var msgs []string
	for _, field := range []string{"data", "stringData"} {
		v := r.Props.Get(field)
		if v.IsNull() || isSecretOrUnknown(v) {
			continue
		}
		msgs = append(msgs, fmt.Sprintf(
			"Secret %q in tenant namespace %q has %s that is not a Pulumi secret; wrap it with pulumi.ToSecret "+
				"so the tenant's credentials are encrypted in state and masked in output",
			objectName(r), ns, field))
	}
	return msgs
}
