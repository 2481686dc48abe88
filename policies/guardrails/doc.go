// Package guardrails is the tenantstack-guardrails policy pack: the rules that
// keep one tenant's resources from reaching another tenant or the platform.
//
// Each rule is a plain function over a resource's type token and property map
// (or, for rules that need the whole stack, over all of its resources), so it
// is table-tested without an engine. [NewPolicyPack] wraps them as policyx
// policies, every one of them mandatory; the binary under
// cmd/pulumi-analyzer-policy-tenantstack-guardrails serves the pack to the
// Pulumi engine (`pulumi preview --policy-pack PATH-TO-BINARY`).
//
// Tenant objects are those in a namespace named tenant-* or in a Namespace
// labelled tenantstack.io/tenant, and our provider's Postgres roles and Redis
// ACL users that do not set allowPrivileged.
//
// Values that are unknown during a preview (outputs of resources not yet
// created) are not judged: the engine analyzes every resource again during
// `up`, when its inputs are known, and the rule decides then.
package guardrails
