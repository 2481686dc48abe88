// Package version holds tenantstack's version, set at build time.
package version

// Version is the tenantstack release, set with -ldflags -X by make build.
var Version = "0.1.0-dev"

// ProviderVersion is the version of the pulumi-resource-tenantstack plugin
// that the SDK asks the engine for. It moves with the provider's schema.
const ProviderVersion = "0.1.0"
