// Package tenantstack is the Go SDK of the pulumi-resource-tenantstack
// provider: the explicit provider resource. The resources live in the
// subpackages postgres and redis; every resource asks the engine for the
// provider version in internal/version.
//
// The SDK is written by hand, as typed resource structs over the provider's
// schema (internal/provider); keep both in step.
package tenantstack
