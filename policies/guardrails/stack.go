package guardrails

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// quotaZeroKeys are the ResourceQuota limits a tenant namespace must pin to
// zero, and what the zero prevents.
var quotaZeroKeys = []struct{ key, reason string }{
	{"services.loadbalancers", "a tenant cannot expose a load balancer"},
	{"services.nodeports", "a tenant cannot open a port on every node"},
}

// NamespaceBaseline requires every tenant Namespace of the stack to come with
// its guard objects in the same stack: a ResourceQuota with
// services.loadbalancers and services.nodeports at "0", a LimitRange, and a
// default-deny NetworkPolicy (empty podSelector, policyTypes Ingress and
// Egress).
func NamespaceBaseline(rs []Resource) []Violation {
	inNS := map[string]map[string][]Resource{} // type -> namespace -> objects
	unknownNS := map[string]bool{}             // types with an object whose namespace is not known yet
	for _, r := range rs {
		switch r.Type {
		case TypeResourceQuota, TypeLimitRange, TypeNetworkPolicy:
		default:
			continue
		}
		ns, ok := namespaceOf(r)
		if !ok {
			unknownNS[r.Type] = unknownNS[r.Type] || lookup(r.Props, "metadata", "namespace").IsComputed()
			continue
		}
		if inNS[r.Type] == nil {
			inNS[r.Type] = map[string][]Resource{}
		}
		inNS[r.Type][ns] = append(inNS[r.Type][ns], r)
	}

	var out []Violation
	tenants := tenantNamespaces(rs)
	for _, name := range sortedKeys(tenants) {
		ns := tenants[name]
		out = append(out, quotaViolations(ns, inNS[TypeResourceQuota][name], unknownNS[TypeResourceQuota])...)
		if len(inNS[TypeLimitRange][name]) == 0 && !unknownNS[TypeLimitRange] {
			out = append(out, Violation{URN: ns.URN, Message: fmt.Sprintf(
				"Namespace %q has no LimitRange in this stack; add one that gives every container default CPU and "+
					"memory requests and limits, so no tenant pod runs unbounded",
				name)})
		}
		if !hasDefaultDeny(inNS[TypeNetworkPolicy][name]) && !unknownNS[TypeNetworkPolicy] {
			out = append(out, Violation{URN: ns.URN, Message: fmt.Sprintf(
				"Namespace %q has no default-deny NetworkPolicy in this stack; add one with podSelector: {} and "+
					"policyTypes: [Ingress, Egress], then allow only the traffic the tenant needs",
				name)})
		}
	}
	return out
}

func quotaViolations(ns Resource, quotas []Resource, unknown bool) []Violation {
	name := objectName(ns)
	if len(quotas) == 0 {
		if unknown {
			return nil
		}
		return []Violation{{URN: ns.URN, Message: fmt.Sprintf(
			"Namespace %q has no ResourceQuota in this stack; add one with services.loadbalancers and "+
				"services.nodeports set to \"0\" (and limits on cpu, memory and pods)",
			name)}}
	}
	var out []Violation
	for _, z := range quotaZeroKeys {
		// Quotas add up: one that pins the limit to zero is enough.
		var pinned bool
		for _, q := range quotas {
			v := lookup(q.Props, "spec", "hard", z.key)
			pinned = pinned || v.IsComputed() || isZeroQuantity(v)
		}
		if pinned {
			continue
		}
		for _, q := range quotas {
			msg := fmt.Sprintf("ResourceQuota %q must set %s to \"0\" so %s", objectName(q), z.key, z.reason)
			if v := lookup(q.Props, "spec", "hard", z.key); isSet(v) {
				msg = fmt.Sprintf("ResourceQuota %q sets %s to %s; it must be \"0\" so %s",
					objectName(q), z.key, quantityString(v), z.reason)
			}
			out = append(out, Violation{URN: q.URN, Message: msg})
		}
	}
	return out
}

// isZeroQuantity reports whether v is a Kubernetes quantity equal to zero
// ("0", 0, "0k", ...).
func isZeroQuantity(v property.Value) bool {
	if v.IsNumber() {
		return v.AsNumber() == 0
	}
	s, ok := stringOf(v)
	if !ok {
		return false
	}
	s = strings.TrimRightFunc(strings.TrimSpace(s), unicode.IsLetter)
	f, err := strconv.ParseFloat(s, 64)
	return err == nil && f == 0
}

func quantityString(v property.Value) string {
	if s, ok := stringOf(v); ok {
		return strconv.Quote(s)
	}
	if v.IsNumber() {
		return strconv.FormatFloat(v.AsNumber(), 'f', -1, 64)
	}
	return "a non-quantity"
}

// hasDefaultDeny reports whether one of the NetworkPolicies selects every pod
// and isolates it for both ingress and egress. Unknown values count as
// compliant until they are known.
func hasDefaultDeny(policies []Resource) bool {
	for _, np := range policies {
		sel := lookup(np.Props, "spec", "podSelector")
		types := lookup(np.Props, "spec", "policyTypes")
		if sel.IsComputed() || types.IsComputed() {
			return true
		}
		if !selectsAll(sel) {
			continue
		}
		var ingress, egress bool
		for _, t := range stringList(types) {
			ingress = ingress || t == "Ingress"
			egress = egress || t == "Egress"
		}
		if ingress && egress {
			return true
		}
	}
	return false
}

// selectsAll reports whether a label selector is empty, which selects every
// pod of the namespace.
func selectsAll(sel property.Value) bool {
	if sel.IsNull() {
		return true
	}
	if !sel.IsMap() {
		return false
	}
	for _, k := range []string{"matchLabels", "matchExpressions"} {
		v := sel.AsMap().Get(k)
		switch {
		case v.IsNull():
		case v.IsMap() && v.AsMap().Len() == 0:
		case v.IsArray() && v.AsArray().Len() == 0:
		default:
			return false
		}
	}
	return true
}

// BoundClusterRoleWildcards forbids "*" in the verbs, resources or apiGroups
// of a ClusterRole that a RoleBinding or ClusterRoleBinding of the stack
// grants to a tenant ServiceAccount, and refuses binding one to the built-in
// cluster-admin.
func BoundClusterRoleWildcards(rs []Resource) []Violation {
	tenant := stackTenantFilter(rs)
	clusterRoles := map[string]Resource{}
	for _, r := range rs {
		if r.Type == TypeClusterRole {
			if name, ok := stringOf(lookup(r.Props, "metadata", "name")); ok {
				clusterRoles[name] = r
			}
		}
	}

	var out []Violation
	for _, b := range rs {
		var defaultNS string
		switch b.Type {
		case TypeRoleBinding:
			defaultNS, _ = namespaceOf(b)
		case TypeClusterRoleBinding:
		default:
			continue
		}
		kind, _ := stringOf(lookup(b.Props, "roleRef", "kind"))
		ref, ok := stringOf(lookup(b.Props, "roleRef", "name"))
		if kind != "ClusterRole" || !ok {
			continue
		}
		subjects := tenantSubjects(b, defaultNS, tenant)
		if len(subjects) == 0 {
			continue
		}
		s := subjects[0]
		bindingKind := strings.TrimPrefix(b.Type, "kubernetes:rbac.authorization.k8s.io/v1:")
		cr, inStack := clusterRoles[ref]
		if !inStack {
			if ref == "cluster-admin" {
				out = append(out, Violation{URN: b.URN, Message: fmt.Sprintf(
					"%s %q grants the built-in ClusterRole \"cluster-admin\", which has \"*\" everywhere, to "+
						"ServiceAccount %q of tenant namespace %q; bind a Role that lists resources and verbs "+
						"explicitly instead",
					bindingKind, objectName(b), s.name, s.namespace)})
			}
			continue
		}
		for _, w := range ruleWildcards(cr) {
			out = append(out, Violation{URN: cr.URN, Message: fmt.Sprintf(
				"ClusterRole %q is granted to ServiceAccount %q of tenant namespace %q by %s %q and has \"*\" in "+
					"rules[%d].%s; %s",
				ref, s.name, s.namespace, bindingKind, objectName(b), w.rule, w.field, wildcardFix[w.field])})
		}
	}
	return out
}

// LabelledTenantNamespaces applies the rules for objects in tenant
// namespaces (RoleWildcards, ServiceAccountTokenAutomount,
// ClusterRoleBindingTenantSubjects, SecretDataIsSecret) to the namespaces
// that are tenants only by their tenantstack.io/tenant label. The resource
// policies already cover tenant-* names; only the whole stack shows labels.
func LabelledTenantNamespaces(rs []Resource) []Violation {
	tenant := labelOnlyFilter(rs)
	var out []Violation
	for _, r := range rs {
		for _, rule := range namespacedRules {
			for _, msg := range rule(r, tenant) {
				out = append(out, Violation{URN: r.URN, Message: msg})
			}
		}
	}
	return out
}

// namespacedRules are the rules that depend on which namespaces are tenants'.
var namespacedRules = []func(Resource, NamespaceFilter) []string{
	RoleWildcards, ServiceAccountTokenAutomount, ClusterRoleBindingTenantSubjects, SecretDataIsSecret,
}
