package guardrails

import "testing"

func TestNamespacePodSecurity(t *testing.T) {
	restricted := m{PodSecurityEnforceLabel: "restricted"}
	tests := []struct {
		name string
		r    Resource
		want []string
	}{
		{
			name: "tenant namespace enforcing restricted",
			r:    obj(TypeNamespace, "", "tenant-acme", restricted, nil),
		},
		{
			name: "tenant namespace without the label",
			r:    obj(TypeNamespace, "", "tenant-acme", m{"tenantstack.io/tier": "shared"}, nil),
			want: []string{`Namespace "tenant-acme" must have label pod-security.kubernetes.io/enforce: restricted ` +
				`so Pod Security admission refuses privileged, host-access and root pods in a tenant namespace; ` +
				`add it to metadata.labels`},
		},
		{
			name: "tenant namespace without any labels",
			r:    obj(TypeNamespace, "", "tenant-acme", nil, nil),
			want: []string{`Namespace "tenant-acme" must have label pod-security.kubernetes.io/enforce: restricted ` +
				`so Pod Security admission refuses privileged, host-access and root pods in a tenant namespace; ` +
				`add it to metadata.labels`},
		},
		{
			name: "tenant namespace enforcing baseline",
			r:    obj(TypeNamespace, "", "tenant-acme", m{PodSecurityEnforceLabel: "baseline"}, nil),
			want: []string{`Namespace "tenant-acme" has label pod-security.kubernetes.io/enforce: "baseline"; ` +
				`set it to "restricted" so Pod Security admission refuses privileged, host-access and root pods ` +
				`in a tenant namespace`},
		},
		{
			name: "namespace that is a tenant's by label only",
			r:    obj(TypeNamespace, "", "acme", m{TenantLabel: "acme"}, nil),
			want: []string{`Namespace "acme" must have label pod-security.kubernetes.io/enforce: restricted ` +
				`so Pod Security admission refuses privileged, host-access and root pods in a tenant namespace; ` +
				`add it to metadata.labels`},
		},
		{
			name: "label value unknown during preview",
			r:    obj(TypeNamespace, "", "tenant-acme", m{PodSecurityEnforceLabel: unknown}, nil),
		},
		{
			name: "platform namespace",
			r:    obj(TypeNamespace, "", "platform", nil, nil),
		},
		{
			name: "other type",
			r:    obj(TypeServiceAccount, "tenant-acme", "tenant-acme", nil, nil),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertMessages(t, NamespacePodSecurity(tt.r), tt.want)
		})
	}
}

func TestRoleWildcards(t *testing.T) {
	explicit := m{"apiGroups": l{""}, "resources": l{"pods", "configmaps"}, "verbs": l{"get", "list"}}
	role := func(ns string, rules ...any) Resource {
		return obj(TypeRole, ns, "app", nil, m{"rules": l(rules)})
	}
	tests := []struct {
		name string
		r    Resource
		want []string
	}{
		{name: "explicit rules", r: role("tenant-acme", explicit)},
		{
			name: "wildcard verbs",
			r:    role("tenant-acme", explicit, with(explicit, m{"verbs": l{"*"}})),
			want: []string{`Role "app" in tenant namespace "tenant-acme" has "*" in rules[1].verbs; list the verbs ` +
				`explicitly (for example get, list, watch, create, update, delete)`},
		},
		{
			name: "wildcard resources",
			r:    role("tenant-acme", with(explicit, m{"resources": l{"pods", "*"}})),
			want: []string{`Role "app" in tenant namespace "tenant-acme" has "*" in rules[0].resources; list the ` +
				`resources explicitly (for example pods, configmaps) so the tenant cannot touch its ResourceQuota, ` +
				`LimitRange, NetworkPolicies or RBAC`},
		},
		{
			name: "wildcard api groups",
			r:    role("tenant-acme", with(explicit, m{"apiGroups": l{"*"}})),
			want: []string{`Role "app" in tenant namespace "tenant-acme" has "*" in rules[0].apiGroups; list the ` +
				`API groups explicitly ("" for the core group)`},
		},
		{
			name: "wildcards everywhere",
			r:    role("tenant-acme", m{"apiGroups": l{"*"}, "resources": l{"*"}, "verbs": l{"*"}}),
			want: []string{
				`Role "app" in tenant namespace "tenant-acme" has "*" in rules[0].apiGroups; list the API groups ` +
					`explicitly ("" for the core group)`,
				`Role "app" in tenant namespace "tenant-acme" has "*" in rules[0].resources; list the resources ` +
					`explicitly (for example pods, configmaps) so the tenant cannot touch its ResourceQuota, ` +
					`LimitRange, NetworkPolicies or RBAC`,
				`Role "app" in tenant namespace "tenant-acme" has "*" in rules[0].verbs; list the verbs explicitly ` +
					`(for example get, list, watch, create, update, delete)`,
			},
		},
		{name: "wildcard outside tenant namespaces", r: role("platform", m{"verbs": l{"*"}})},
		{name: "namespace unknown during preview", r: obj(TypeRole, "", "app", nil, m{
			"metadata": m{"name": "app", "namespace": unknown}, "rules": l{m{"verbs": l{"*"}}},
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertMessages(t, RoleWildcards(tt.r, IsTenantNamespaceName), tt.want)
		})
	}
}

func TestServiceAccountTokenAutomount(t *testing.T) {
	sa := func(ns string, automount any) Resource {
		rest := m{}
		if automount != nil {
			rest["automountServiceAccountToken"] = automount
		}
		return obj(TypeServiceAccount, ns, "app", nil, rest)
	}
	msg := `ServiceAccount "app" in tenant namespace "tenant-acme" must set automountServiceAccountToken: false ` +
		`so tenant pods get no Kubernetes API token by default; mount one explicitly only where a workload needs it`
	tests := []struct {
		name string
		r    Resource
		want []string
	}{
		{name: "automount off", r: sa("tenant-acme", false)},
		{name: "automount on", r: sa("tenant-acme", true), want: []string{msg}},
		{name: "automount unset (defaults to on)", r: sa("tenant-acme", nil), want: []string{msg}},
		{name: "unknown during preview", r: sa("tenant-acme", unknown)},
		{name: "outside tenant namespaces", r: sa("platform", true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertMessages(t, ServiceAccountTokenAutomount(tt.r, IsTenantNamespaceName), tt.want)
		})
	}
}

func TestClusterRoleBindingTenantSubjects(t *testing.T) {
	crb := func(subjects ...any) Resource {
		return obj(TypeClusterRoleBinding, "", "reader", nil, m{
			"roleRef":  m{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
			"subjects": l(subjects),
		})
	}
	tests := []struct {
		name string
		r    Resource
		want []string
	}{
		{name: "platform service account", r: crb(m{"kind": "ServiceAccount", "namespace": "platform", "name": "otel"})},
		{
			name: "tenant service account",
			r: crb(
				m{"kind": "ServiceAccount", "namespace": "platform", "name": "otel"},
				m{"kind": "ServiceAccount", "namespace": "tenant-acme", "name": "app"},
			),
			want: []string{`ClusterRoleBinding "reader" names ServiceAccount "app" of tenant namespace ` +
				`"tenant-acme" in subjects[1]; grant a tenant permissions with a RoleBinding inside its own ` +
				`namespace, never cluster-wide`},
		},
		{name: "user named like a tenant is not a ServiceAccount", r: crb(m{"kind": "User", "name": "tenant-acme"})},
		{name: "subject namespace unknown during preview", r: crb(m{"kind": "ServiceAccount", "namespace": unknown, "name": "app"})},
		{name: "other type", r: obj(TypeRoleBinding, "tenant-acme", "b", nil, m{
			"subjects": l{m{"kind": "ServiceAccount", "namespace": "tenant-acme", "name": "app"}},
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertMessages(t, ClusterRoleBindingTenantSubjects(tt.r, IsTenantNamespaceName), tt.want)
		})
	}
}

func TestSecretDataIsSecret(t *testing.T) {
	secretObj := func(ns string, rest m) Resource { return obj(TypeSecret, ns, "creds", nil, rest) }
	tests := []struct {
		name string
		r    Resource
		want []string
	}{
		{name: "data is a secret", r: secretObj("tenant-acme", m{"data": secret{m{"password": "cGFzcw=="}}})},
		{name: "every data value is a secret", r: secretObj("tenant-acme", m{"stringData": m{
			"password": secret{"pass"}, "dsn": secret{"postgres://..."},
		}})},
		{name: "no data", r: secretObj("tenant-acme", m{"type": "Opaque"})},
		{name: "data unknown during preview", r: secretObj("tenant-acme", m{"data": unknown})},
		{
			name: "plain stringData",
			r:    secretObj("tenant-acme", m{"stringData": m{"password": "pass"}}),
			want: []string{`Secret "creds" in tenant namespace "tenant-acme" has stringData that is not a Pulumi ` +
				`secret; wrap it with pulumi.ToSecret so the tenant's credentials are encrypted in state and masked ` +
				`in output`},
		},
		{
			name: "one plain value among secrets",
			r: secretObj("tenant-acme", m{
				"data":       secret{m{"a": "YQ=="}},
				"stringData": m{"password": secret{"pass"}, "user": "acme"},
			}),
			want: []string{`Secret "creds" in tenant namespace "tenant-acme" has stringData that is not a Pulumi ` +
				`secret; wrap it with pulumi.ToSecret so the tenant's credentials are encrypted in state and masked ` +
				`in output`},
		},
		{
			name: "plain data and stringData",
			r:    secretObj("tenant-acme", m{"data": m{"a": "YQ=="}, "stringData": m{"b": "b"}}),
			want: []string{
				`Secret "creds" in tenant namespace "tenant-acme" has data that is not a Pulumi secret; wrap it ` +
					`with pulumi.ToSecret so the tenant's credentials are encrypted in state and masked in output`,
				`Secret "creds" in tenant namespace "tenant-acme" has stringData that is not a Pulumi secret; wrap ` +
					`it with pulumi.ToSecret so the tenant's credentials are encrypted in state and masked in output`,
			},
		},
		{name: "outside tenant namespaces", r: secretObj("platform", m{"stringData": m{"password": "pass"}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertMessages(t, SecretDataIsSecret(tt.r, IsTenantNamespaceName), tt.want)
		})
	}
}
