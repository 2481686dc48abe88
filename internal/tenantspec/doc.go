// Package tenantspec is the tenant domain: what a tenant is (Spec, with its
// quota, flags and workload), the rules its fields follow (Validate, keyed by
// field), the names derived from its id (RoleName, Namespace, KeyPrefix, ...),
// the labels it carries and the shape of its credentials.
//
// It is a leaf: it imports no Pulumi engine and no CLI, so the TenantStack
// component, fleet, the CLI, our provider's checks and the policy pack all
// use it, and a rule is written once.
package tenantspec
