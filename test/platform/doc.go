// Package platform tests the platform program as people run it: the real
// `pulumi up` of the root Pulumi.yaml (runtime go, main stacks/platform),
// through our Go language host and the real providers, against the local
// platform named by TENANTSTACK_DEV_ENV (scripts/with-platform.sh). It checks
// the PostgreSQL, Redis and Kubernetes objects for real, that a second up
// changes nothing, and that destroy leaves nothing behind. The tests carry
// the build tag "integration".
package platform
