// Command pulumi-resource-tenantstack is the tenantstack Pulumi provider
// plugin. The engine starts it; see internal/provider.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/tenantstack/tenantstack/internal/provider"
)

func main() {
	if err := provider.Run(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-tenantstack: %v\n", err)
		os.Exit(1)
	}
}
