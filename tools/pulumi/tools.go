//go:build tools

// Package pulumi pins the Pulumi toolchain that tenantstack builds offline:
// the Pulumi CLI and the Kubernetes resource provider.
package pulumi

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
	_ "github.com/pulumi/pulumi/sdk/v3/go/common/version"
)
