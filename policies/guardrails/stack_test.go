package guardrails

import "testing"

func urn(r Resource) string { return r.URN }

func TestNamespaceBaseline(t *testing.T) {
	ns := obj(TypeNamespace, "", "tenant-acme", m{PodSecurityEnforceLabel: "restricted"}, nil)
	quota := func(name string, hard m) Resource {
		return obj(TypeResourceQuota, "tenant-acme", name, nil, m{"spec": m{"hard": hard}})
	}
	goodQuota := quota("tenant-acme-quota", m{
		"cpu": "2", "memory": "4Gi", "pods": "20", "services.loadbalancers": "0", "services.nodeports": "0",
	})
	limits := obj(TypeLimitRange, "tenant-acme", "tenant-acme-limits", nil, m{"spec": m{"limits": l{m{"type": "Container"}}}})
	netpol := func(name string, spec m) Resource {
		return obj(TypeNetworkPolicy, "tenant-acme", name, nil, m{"spec": spec})
	}
	denyAll := netpol("tenant-acme-default-deny", m{"podSelector": m{}, "policyTypes": l{"Ingress", "Egress"}})
	allowDNS := netpol("tenant-acme-dns", m{
		"podSelector": m{}, "policyTypes": l{"Egress"}, "egress": l{m{"ports": l{m{"port": 53, "protocol": "UDP"}}}},
	})
	noQuota := `Namespace "tenant-acme" has no ResourceQuota in this stack; add one with services.loadbalancers and ` +
		`services.nodeports set to "0" (and limits on cpu, memory and pods)`
	noLimits := `Namespace "tenant-acme" has no LimitRange in this stack; add one that gives every container default ` +
		`CPU and memory requests and limits, so no tenant pod runs unbounded`
	noDeny := `Namespace "tenant-acme" has no default-deny NetworkPolicy in this stack; add one with podSelector: {} ` +
		`and policyTypes: [Ingress, Egress], then allow only the traffic the tenant needs`
	lbMsg := `ResourceQuota "tenant-acme-quota" must set services.loadbalancers to "0" so a tenant cannot expose a ` +
		`load balancer`
	npMsg := `ResourceQuota "tenant-acme-quota" must set services.nodeports to "0" so a tenant cannot open a port on ` +
		`every node`

	tests := []struct {
		name string
		rs   []Resource
		want []Violation
	}{
		{name: "complete tenant namespace", rs: []Resource{ns, goodQuota, limits, denyAll, allowDNS}},
		{name: "limits spread over two quotas, as number and quantity", rs: []Resource{
			ns, limits, denyAll,
			quota("compute", m{"cpu": "2", "services.loadbalancers": 0}),
			quota("services", m{"services.nodeports": "0k"}),
		}},
		{name: "deny-all selector written with empty matchLabels", rs: []Resource{ns, goodQuota, limits, netpol("deny",
			m{"podSelector": m{"matchLabels": m{}}, "policyTypes": l{"Egress", "Ingress"}})}},
		{
			name: "nothing but the namespace",
			rs:   []Resource{ns},
			want: []Violation{{urn(ns), noQuota}, {urn(ns), noLimits}, {urn(ns), noDeny}},
		},
		{
			name: "quota without services limits",
			rs:   []Resource{ns, limits, denyAll, quota("tenant-acme-quota", m{"cpu": "2"})},
			want: []Violation{{urn(goodQuota), lbMsg}, {urn(goodQuota), npMsg}},
		},
		{
			name: "quota allowing a load balancer",
			rs: []Resource{ns, limits, denyAll, quota("tenant-acme-quota", m{
				"services.loadbalancers": "1", "services.nodeports": "0",
			})},
			want: []Violation{{urn(goodQuota), `ResourceQuota "tenant-acme-quota" sets services.loadbalancers to "1"; ` +
				`it must be "0" so a tenant cannot expose a load balancer`}},
		},
		{
			name: "quota allowing node ports",
			rs: []Resource{ns, limits, denyAll, quota("tenant-acme-quota", m{
				"services.loadbalancers": "0", "services.nodeports": 2,
			})},
			want: []Violation{{urn(goodQuota), `ResourceQuota "tenant-acme-quota" sets services.nodeports to 2; it ` +
				`must be "0" so a tenant cannot open a port on every node`}},
		},
		{name: "quota value unknown during preview", rs: []Resource{ns, limits, denyAll, quota("tenant-acme-quota", m{
			"services.loadbalancers": unknown, "services.nodeports": "0",
		})}},
		{
			name: "quota in another namespace",
			rs: []Resource{ns, limits, denyAll, obj(TypeResourceQuota, "tenant-other", "q", nil, m{"spec": m{"hard": m{
				"services.loadbalancers": "0", "services.nodeports": "0",
			}}})},
			want: []Violation{{urn(ns), noQuota}},
		},
		{name: "quota namespace unknown during preview", rs: []Resource{ns, limits, denyAll, res(TypeResourceQuota, "q", m{
			"metadata": m{"name": "q", "namespace": unknown},
		})}},
		{
			name: "no LimitRange",
			rs:   []Resource{ns, goodQuota, denyAll},
			want: []Violation{{urn(ns), noLimits}},
		},
		{
			name: "only allow policies",
			rs:   []Resource{ns, goodQuota, limits, allowDNS},
			want: []Violation{{urn(ns), noDeny}},
		},
		{
			name: "deny policy selecting some pods only",
			rs: []Resource{ns, goodQuota, limits, netpol("deny", m{
				"podSelector": m{"matchLabels": m{"app": "web"}}, "policyTypes": l{"Ingress", "Egress"},
			})},
			want: []Violation{{urn(ns), noDeny}},
		},
		{
			name: "deny policy for ingress only",
			rs:   []Resource{ns, goodQuota, limits, netpol("deny", m{"podSelector": m{}, "policyTypes": l{"Ingress"}})},
			want: []Violation{{urn(ns), noDeny}},
		},
		{
			name: "namespace that is a tenant's by label only",
			rs:   []Resource{obj(TypeNamespace, "", "acme", m{TenantLabel: "acme"}, nil)},
			want: []Violation{
				{urn(obj(TypeNamespace, "", "acme", nil, nil)), `Namespace "acme" has no ResourceQuota in this stack; ` +
					`add one with services.loadbalancers and services.nodeports set to "0" (and limits on cpu, ` +
					`memory and pods)`},
				{urn(obj(TypeNamespace, "", "acme", nil, nil)), `Namespace "acme" has no LimitRange in this stack; ` +
					`add one that gives every container default CPU and memory requests and limits, so no tenant ` +
					`pod runs unbounded`},
				{urn(obj(TypeNamespace, "", "acme", nil, nil)), `Namespace "acme" has no default-deny NetworkPolicy ` +
					`in this stack; add one with podSelector: {} and policyTypes: [Ingress, Egress], then allow only ` +
					`the traffic the tenant needs`},
			},
		},
		{name: "platform namespace", rs: []Resource{obj(TypeNamespace, "", "platform", nil, nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertViolations(t, NamespaceBaseline(tt.rs), tt.want)
		})
	}
}

func TestBoundClusterRoleWildcards(t *testing.T) {
	wide := obj(TypeClusterRole, "", "wide", nil, m{"rules": l{
		m{"apiGroups": l{""}, "resources": l{"pods"}, "verbs": l{"get"}},
		m{"apiGroups": l{""}, "resources": l{"configmaps"}, "verbs": l{"*"}},
	}})
	narrow := obj(TypeClusterRole, "", "narrow", nil, m{"rules": l{
		m{"apiGroups": l{""}, "resources": l{"pods"}, "verbs": l{"get", "list"}},
	}})
	binding := func(typ, ns, role string, subjects ...any) Resource {
		return obj(typ, ns, "grant", nil, m{
			"roleRef":  m{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
			"subjects": l(subjects),
		})
	}
	tenantSA := m{"kind": "ServiceAccount", "namespace": "tenant-acme", "name": "app"}
	platformSA := m{"kind": "ServiceAccount", "namespace": "platform", "name": "otel"}
	wideMsg := func(kind string) string {
		return `ClusterRole "wide" is granted to ServiceAccount "app" of tenant namespace "tenant-acme" by ` + kind +
			` "grant" and has "*" in rules[1].verbs; list the verbs explicitly (for example get, list, watch, ` +
			`create, update, delete)`
	}
	tests := []struct {
		name string
		rs   []Resource
		want []Violation
	}{
		{name: "narrow role bound to a tenant", rs: []Resource{narrow, binding(TypeRoleBinding, "tenant-acme", "narrow", tenantSA)}},
		{name: "wide role bound to the platform only", rs: []Resource{wide, binding(TypeClusterRoleBinding, "", "wide", platformSA)}},
		{name: "wide role bound to nobody", rs: []Resource{wide}},
		{
			name: "wide role granted in a tenant namespace",
			rs:   []Resource{wide, binding(TypeRoleBinding, "tenant-acme", "wide", tenantSA)},
			want: []Violation{{urn(wide), wideMsg("RoleBinding")}},
		},
		{
			name: "RoleBinding subject without namespace defaults to the binding's",
			rs: []Resource{wide, binding(TypeRoleBinding, "tenant-acme", "wide",
				m{"kind": "ServiceAccount", "name": "app"})},
			want: []Violation{{urn(wide), wideMsg("RoleBinding")}},
		},
		{
			name: "wide role granted cluster-wide",
			rs:   []Resource{wide, binding(TypeClusterRoleBinding, "", "wide", platformSA, tenantSA)},
			want: []Violation{{urn(wide), wideMsg("ClusterRoleBinding")}},
		},
		{
			name: "wide role granted to a namespace labelled as a tenant's",
			rs: []Resource{
				obj(TypeNamespace, "", "acme", m{TenantLabel: "acme"}, nil), wide,
				binding(TypeRoleBinding, "acme", "wide", m{"kind": "ServiceAccount", "namespace": "acme", "name": "app"}),
			},
			want: []Violation{{urn(wide), `ClusterRole "wide" is granted to ServiceAccount "app" of tenant namespace ` +
				`"acme" by RoleBinding "grant" and has "*" in rules[1].verbs; list the verbs explicitly (for example ` +
				`get, list, watch, create, update, delete)`}},
		},
		{
			name: "built-in cluster-admin granted to a tenant",
			rs:   []Resource{binding(TypeRoleBinding, "tenant-acme", "cluster-admin", tenantSA)},
			want: []Violation{{urn(binding(TypeRoleBinding, "", "", nil)), `RoleBinding "grant" grants the built-in ` +
				`ClusterRole "cluster-admin", which has "*" everywhere, to ServiceAccount "app" of tenant namespace ` +
				`"tenant-acme"; bind a Role that lists resources and verbs explicitly instead`}},
		},
		{name: "binding to a Role is left to the Role rule", rs: []Resource{wide, obj(TypeRoleBinding, "tenant-acme", "grant", nil, m{
			"roleRef":  m{"kind": "Role", "name": "wide"},
			"subjects": l{tenantSA},
		})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertViolations(t, BoundClusterRoleWildcards(tt.rs), tt.want)
		})
	}
}

func TestLabelledTenantNamespaces(t *testing.T) {
	labelled := obj(TypeNamespace, "", "acme", m{TenantLabel: "acme", PodSecurityEnforceLabel: "restricted"}, nil)
	named := obj(TypeNamespace, "", "tenant-beta", m{PodSecurityEnforceLabel: "restricted"}, nil)
	sa := func(ns string) Resource {
		return obj(TypeServiceAccount, ns, "app", nil, m{"automountServiceAccountToken": true})
	}
	role := obj(TypeRole, "acme", "app", nil, m{"rules": l{m{"apiGroups": l{""}, "resources": l{"*"}, "verbs": l{"get"}}}})
	crb := obj(TypeClusterRoleBinding, "", "reader", nil, m{
		"roleRef":  m{"kind": "ClusterRole", "name": "view"},
		"subjects": l{m{"kind": "ServiceAccount", "namespace": "acme", "name": "app"}},
	})
	plainSecret := obj(TypeSecret, "acme", "creds", nil, m{"stringData": m{"password": "pw"}})
	tests := []struct {
		name string
		rs   []Resource
		want []Violation
	}{
		{
			name: "objects in a labelled namespace",
			rs:   []Resource{labelled, sa("acme"), role, crb, plainSecret},
			want: []Violation{
				{urn(sa("acme")), `ServiceAccount "app" in tenant namespace "acme" must set ` +
					`automountServiceAccountToken: false so tenant pods get no Kubernetes API token by default; ` +
					`mount one explicitly only where a workload needs it`},
				{urn(role), `Role "app" in tenant namespace "acme" has "*" in rules[0].resources; list the resources ` +
					`explicitly (for example pods, configmaps) so the tenant cannot touch its ResourceQuota, ` +
					`LimitRange, NetworkPolicies or RBAC`},
				{urn(crb), `ClusterRoleBinding "reader" names ServiceAccount "app" of tenant namespace "acme" in ` +
					`subjects[0]; grant a tenant permissions with a RoleBinding inside its own namespace, never ` +
					`cluster-wide`},
				{urn(plainSecret), `Secret "creds" in tenant namespace "acme" has stringData that is not a Pulumi ` +
					`secret; wrap it with pulumi.ToSecret so the tenant's credentials are encrypted in state and ` +
					`masked in output`},
			},
		},
		// The resource policies report these; the stack policy must not repeat them.
		{name: "tenant-* namespaces are left to the resource policies", rs: []Resource{named, sa("tenant-beta")}},
		{name: "same objects without the labelled Namespace in the stack", rs: []Resource{sa("acme"), role, crb, plainSecret}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertViolations(t, LabelledTenantNamespaces(tt.rs), tt.want)
		})
	}
}
