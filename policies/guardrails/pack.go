package guardrails

import (
	"context"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// PackName is the policy pack's name as the engine reports it.
const PackName = "tenantstack-guardrails"

// Version is the pack's version; PulumiPolicy.yaml states the same one.
var Version = semver.MustParse("0.1.0")

// NewPolicyPack returns the tenantstack-guardrails pack with every policy
// mandatory.
func NewPolicyPack() (policyx.PolicyPack, error) {
	// policyx ignores the pack-level level (a policy without its own one is
	// advisory), so each policy sets mandatory itself.
	return policyx.NewPolicyPack(PackName, Version, policyx.EnforcementLevelMandatory, Policies())
}

// Policies returns the pack's policies, each with enforcement level mandatory.
func Policies() []policyx.Policy {
	tenantNames := NamespaceFilter(IsTenantNamespaceName)
	return []policyx.Policy{
		resourcePolicy("tenant-namespace-pod-security",
			"A tenant namespace enforces the restricted Pod Security Standard.",
			NamespacePodSecurity),
		resourcePolicy("tenant-role-no-wildcards",
			"A Role in a tenant namespace lists its verbs, resources and API groups; no \"*\".",
			func(r Resource) []string { return RoleWildcards(r, tenantNames) }),
		resourcePolicy("tenant-service-account-no-token-automount",
			"A ServiceAccount in a tenant namespace does not automount its API token.",
			func(r Resource) []string { return ServiceAccountTokenAutomount(r, tenantNames) }),
		resourcePolicy("no-cluster-role-binding-to-tenant",
			"No ClusterRoleBinding names a tenant's ServiceAccount.",
			func(r Resource) []string { return ClusterRoleBindingTenantSubjects(r, tenantNames) }),
		resourcePolicy("postgres-tenant-role-least-privilege",
			"A tenant Postgres login role holds no privileged attribute and has a connection limit.",
			PostgresRoleLeastPrivilege),
		resourcePolicy("postgres-database-revokes-public-connect",
			"A tenant database does not keep CONNECT for PUBLIC.",
			PostgresDatabaseRevokesPublicConnect),
		resourcePolicy("redis-tenant-acl-scoped",
			"A tenant Redis ACL user is confined to its own keys, channels and an explicit command allowlist.",
			RedisACLScoped),
		resourcePolicy("credentials-are-secrets",
			"Passwords and tenant Kubernetes Secret data are Pulumi secrets.",
			func(r Resource) []string {
				return append(CredentialsAreSecrets(r), SecretDataIsSecret(r, tenantNames)...)
			}),
		stackPolicy("tenant-namespace-baseline",
			"Each tenant namespace has a ResourceQuota with no load balancers or node ports, a LimitRange "+
				"and a default-deny NetworkPolicy.",
			NamespaceBaseline),
		stackPolicy("tenant-bound-cluster-role-no-wildcards",
			"A ClusterRole granted to a tenant's ServiceAccount lists its verbs, resources and API groups; no \"*\".",
			BoundClusterRoleWildcards),
		stackPolicy("labelled-tenant-namespaces",
			"Objects in namespaces labelled "+TenantLabel+" follow the same rules as those in tenant-* namespaces.",
			LabelledTenantNamespaces),
	}
}

func resourcePolicy(name, description string, rule func(Resource) []string) policyx.Policy {
	return policyx.NewResourceValidationPolicy(name, policyx.ResourceValidationPolicyArgs{
		Description:      description,
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			for _, msg := range rule(fromAnalyzer(args.Resource)) {
				args.Manager.ReportViolation(msg, "")
			}
			return nil
		},
	})
}

func stackPolicy(name, description string, rule func([]Resource) []Violation) policyx.Policy {
	return policyx.NewStackValidationPolicy(name, policyx.StackValidationPolicyArgs{
		Description:      description,
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
			rs := make([]Resource, len(args.Resources))
			for i, r := range args.Resources {
				rs[i] = fromAnalyzer(r)
			}
			for _, v := range rule(rs) {
				args.Manager.ReportViolation(v.Message, v.URN)
			}
			return nil
		},
	})
}
