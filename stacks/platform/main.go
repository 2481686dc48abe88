// Command platform is the platform program that the root Pulumi.yaml runs
// (`pulumi up` from the repository root).
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/tenantstack/tenantstack/stacks/platform/platformstack"
)

func main() {
	pulumi.Run(platformstack.Run)
}
