package guardrails

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

var wantPolicies = []string{
	"tenant-namespace-pod-security",
	"tenant-role-no-wildcards",
	"tenant-service-account-no-token-automount",
	"no-cluster-role-binding-to-tenant",
	"postgres-tenant-role-least-privilege",
	"postgres-database-revokes-public-connect",
	"redis-tenant-acl-scoped",
	"credentials-are-secrets",
	"tenant-namespace-baseline",
	"tenant-bound-cluster-role-no-wildcards",
	"labelled-tenant-namespaces",
}

func TestPackDeclaresEveryPolicyMandatory(t *testing.T) {
	pack, err := NewPolicyPack()
	if err != nil {
		t.Fatalf("NewPolicyPack: %v", err)
	}
	if pack.Name() != "tenantstack-guardrails" {
		t.Errorf("pack name = %q, want tenantstack-guardrails", pack.Name())
	}
	var names []string
	for _, p := range pack.Policies() {
		names = append(names, p.Name())
		if got := p.EnforcementLevel(); got != policyx.EnforcementLevelMandatory {
			t.Errorf("policy %q has enforcement level %d, want mandatory (%d)", p.Name(), got,
				policyx.EnforcementLevelMandatory)
		}
		if p.Description() == "" {
			t.Errorf("policy %q has no description", p.Name())
		}
	}
	if !slices.Equal(names, wantPolicies) {
		t.Errorf("policies = %q, want %q", names, wantPolicies)
	}
}

func TestPulumiPolicyYAMLVersionMatchesPack(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("cmd", "pulumi-analyzer-policy-tenantstack-guardrails", "PulumiPolicy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^runtime: go$`).Match(b) {
		t.Errorf("PulumiPolicy.yaml does not say runtime: go:\n%s", b)
	}
	got := regexp.MustCompile(`(?m)^version: (\S+)$`).FindSubmatch(b)
	if got == nil || string(got[1]) != Version.String() {
		t.Errorf("PulumiPolicy.yaml version = %q, want %q (guardrails.Version)", got, Version)
	}
}

// reporter records what a policy reports, as the engine would.
type reporter struct{ got []Violation }

func (r *reporter) ReportViolation(message, urn string) {
	r.got = append(r.got, Violation{URN: urn, Message: message})
}

func policyNamed(t *testing.T, name string) policyx.Policy {
	t.Helper()
	for _, p := range Policies() {
		if p.Name() == name {
			return p
		}
	}
	t.Fatalf("no policy %q", name)
	return nil
}

func analyzerResource(r Resource) policyx.AnalyzerResource {
	return policyx.AnalyzerResource{Type: r.Type, Name: r.Name, URN: r.URN, Properties: r.Props}
}

// TestPoliciesReportThroughPolicyx checks the wiring: each policy runs its rule
// on the resource the engine hands it and reports every message.
func TestPoliciesReportThroughPolicyx(t *testing.T) {
	unsafeNS := obj(TypeNamespace, "", "tenant-x", nil, nil)
	tests := []struct {
		policy    string
		resources []Resource // one for a resource policy, the stack for a stack policy
		want      []Violation
	}{
		{policy: "tenant-namespace-pod-security", resources: []Resource{unsafeNS}, want: []Violation{{"", NamespacePodSecurity(unsafeNS)[0]}}},
		{policy: "tenant-role-no-wildcards", resources: []Resource{obj(TypeRole, "tenant-x", "r", nil, m{"rules": l{m{"verbs": l{"*"}}}})}},
		{policy: "tenant-service-account-no-token-automount", resources: []Resource{obj(TypeServiceAccount, "tenant-x", "sa", nil, nil)}},
		{policy: "no-cluster-role-binding-to-tenant", resources: []Resource{obj(TypeClusterRoleBinding, "", "b", nil, m{
			"subjects": l{m{"kind": "ServiceAccount", "namespace": "tenant-x", "name": "sa"}},
		})}},
		{policy: "postgres-tenant-role-least-privilege", resources: []Resource{res(TypePostgresRole, "r", m{"login": true, "superuser": true, "connectionLimit": 1})}},
		{policy: "postgres-database-revokes-public-connect", resources: []Resource{res(TypePostgresDatabase, "d", m{"revokePublicConnect": false})}},
		{policy: "redis-tenant-acl-scoped", resources: []Resource{res(TypeRedisACLUser, "u", m{"keyPatterns": l{"~*"}})}},
		{policy: "credentials-are-secrets", resources: []Resource{res(TypeRedisACLUser, "u", m{"password": "pw"})}},
		{policy: "credentials-are-secrets", resources: []Resource{obj(TypeSecret, "tenant-x", "s", nil, m{"data": m{"a": "YQ=="}})}},
		{policy: "tenant-namespace-baseline", resources: []Resource{unsafeNS}, want: NamespaceBaseline([]Resource{unsafeNS})},
		{policy: "tenant-bound-cluster-role-no-wildcards", resources: []Resource{obj(TypeRoleBinding, "tenant-x", "b", nil, m{
			"roleRef":  m{"kind": "ClusterRole", "name": "cluster-admin"},
			"subjects": l{m{"kind": "ServiceAccount", "name": "sa"}},
		})}},
		{policy: "labelled-tenant-namespaces", resources: []Resource{
			obj(TypeNamespace, "", "acme", m{TenantLabel: "acme"}, nil), obj(TypeServiceAccount, "acme", "sa", nil, nil),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			rep := &reporter{}
			switch p := policyNamed(t, tt.policy).(type) {
			case policyx.ResourceValidationPolicy:
				err := p.Validate(context.Background(), policyx.ResourceValidationArgs{
					Manager: rep, Resource: analyzerResource(tt.resources[0]),
				})
				if err != nil {
					t.Fatal(err)
				}
			case policyx.StackValidationPolicy:
				var rs []policyx.AnalyzerResource
				for _, r := range tt.resources {
					rs = append(rs, analyzerResource(r))
				}
				if err := p.Validate(context.Background(), policyx.StackValidationArgs{Manager: rep, Resources: rs}); err != nil {
					t.Fatal(err)
				}
			default:
				t.Fatalf("policy %q is neither a resource nor a stack validation policy", tt.policy)
			}
			if len(rep.got) == 0 {
				t.Fatalf("policy %q reported nothing for %+v", tt.policy, tt.resources)
			}
			if tt.want != nil && !slices.Equal(rep.got, tt.want) {
				t.Errorf("reported %+v, want %+v", rep.got, tt.want)
			}
		})
	}
}

// TestSecretnessSurvivesTheWire runs properties through the marshalling the
// engine and policyx use between them, so the secret checks read what a real
// analysis reads.
func TestSecretnessSurvivesTheWire(t *testing.T) {
	opts := plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true, KeepOutputValues: true}
	tests := []struct {
		name     string
		password resource.PropertyValue
		want     int
	}{
		{name: "secret password", password: resource.MakeSecret(resource.NewStringProperty("pw"))},
		{name: "plain password", password: resource.NewStringProperty("pw"), want: 1},
		{name: "unknown secret password", password: resource.MakeSecret(resource.MakeComputed(resource.NewStringProperty("")))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire, err := plugin.MarshalProperties(resource.PropertyMap{
				"username": resource.NewStringProperty("t:acme"),
				"password": tt.password,
			}, opts)
			if err != nil {
				t.Fatal(err)
			}
			back, err := plugin.UnmarshalProperties(wire, opts)
			if err != nil {
				t.Fatal(err)
			}
			r := Resource{Type: TypeRedisACLUser, Name: "u", Props: resource.FromResourcePropertyMap(back)}
			if got := CredentialsAreSecrets(r); len(got) != tt.want {
				t.Errorf("CredentialsAreSecrets = %q, want %d message(s)", got, tt.want)
			}
		})
	}
}
