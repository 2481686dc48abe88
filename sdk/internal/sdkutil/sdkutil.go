// Package sdkutil holds what the tenantstack SDK packages share.
package sdkutil

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tenantstack/tenantstack/internal/version"
)

// Options returns opts with the provider plugin version the SDK is written
// against, so the engine loads pulumi-resource-tenantstack of that version.
// An explicit pulumi.Version given by the caller still wins.
func Options(opts []pulumi.ResourceOption) []pulumi.ResourceOption {
	return append([]pulumi.ResourceOption{pulumi.Version(version.ProviderVersion)}, opts...)
}
